import factory

from service.models import Queue


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue

    slug = factory.Sequence(lambda n: f"queue-{n}")
    name = factory.Sequence(lambda n: f"Queue {n}")
