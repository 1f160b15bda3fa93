"""WhiteNoise, with its index of static files built once per process.

WhiteNoise indexes the files it serves (a stat and a set of headers for each of the few hundred
files the apps and the offline Swagger UI ship) whenever a middleware chain is built. A server
process builds its chain once, but every test client builds one of its own: with the index built
again each time, that was a fifth of the test suite's time. The files do not change while a
process runs (WhiteNoise does not look again either, outside autorefresh), so the index of a
directory, or of the finders, is kept per process and shared by every chain.
"""

from typing import ClassVar

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    _indexes: ClassVar[dict[tuple, dict]] = {}

    def add_files(self, root, prefix=None) -> None:
        index = super().add_files
        self._add_indexed(("root", str(root), prefix), lambda: index(root, prefix))

    def add_files_from_finders(self) -> None:
        dirs, apps = tuple(map(str, settings.STATICFILES_DIRS)), tuple(settings.INSTALLED_APPS)
        key = ("finders", self.static_prefix, dirs, apps)
        self._add_indexed(key, super().add_files_from_finders)

    def _add_indexed(self, key: tuple, index) -> None:
        if self.autorefresh:  # files looked up per request: nothing is indexed up front
            index()
            return
        if key not in self._indexes:
            before = dict(self.files)
            index()
            self._indexes[key] = {path: file for path, file in self.files.items() if before.get(path) is not file}
        self.files.update(self._indexes[key])
