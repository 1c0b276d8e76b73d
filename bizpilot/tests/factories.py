"""Test data for the kernel: people who use the admin."""

from __future__ import annotations

from typing import Any, cast

import factory
from django.contrib.auth.models import Group, User
from factory.django import DjangoModelFactory

from bizpilot.access import OPERATORS_GROUP


class UserFactory(DjangoModelFactory):
    """A staff user (who may log in to the admin); `operator=True` puts them in the Operators group."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-test-123")
    is_staff = True

    @factory.post_generation
    def operator(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            cast(User, self).groups.add(Group.objects.get(name=OPERATORS_GROUP))
