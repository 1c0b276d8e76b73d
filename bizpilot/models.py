from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One human or automatic action on an object, written in the same transaction as the change itself."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=200, help_text="user:<name>, api_key:<name> or system:<component>")
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.object_type}#{self.object_id}"


class Access(models.Model):
    """No table: the home of permissions that every app enforces, so no app names another app's permission.

    `bizpilot.review`: review the replies to leads (approve, edit, reject, regenerate), correct a lead's intent and
    mark how a lead ended. Operators hold it (bizpilot.access)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("review", "Can review drafts: approve, edit, reject, regenerate, correct intent")]

    def __str__(self) -> str:
        return "access"
