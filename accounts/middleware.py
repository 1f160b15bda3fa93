from zoneinfo import ZoneInfo

from django.utils import timezone


def user_time_zone(get_response):
    """Show times in the signed-in user's time zone (their profile's), UTC for everyone else."""

    def middleware(request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.time_zone != "UTC":
            timezone.activate(ZoneInfo(user.time_zone))
        else:
            timezone.deactivate()
        return get_response(request)

    return middleware
