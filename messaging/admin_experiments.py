"""The admin of experiments: variants are edited while the experiment is a draft; start, stop and declaring the
winner go through messaging.experiments. Results are on /analytics/experiments/."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from bizpilot.actors import user_actor
from bizpilot.admin import admin_each
from bizpilot.errors import ServiceError
from messaging.experiments import experiment_declare_winner, experiment_start, experiment_stop
from messaging.models import Experiment, ExperimentVariant


class ExperimentVariantInline(admin.TabularInline):
    model = ExperimentVariant
    extra = 2
    fields = ["name", "weight", "prompt_template", "auto_send_threshold"]

    def _editable(self, obj: Experiment | None) -> bool:
        return obj is None or obj.status == Experiment.Status.DRAFT

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._editable(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._editable(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._editable(obj)


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    """A/B tests of prompt templates or auto-send thresholds. Each new lead is assigned to a variant by a hash of
    its id while the experiment runs; one runs at a time."""

    list_display = ["name", "kind", "status", "started_at", "stopped_at", "winner", "results"]
    list_filter = ["status", "kind"]
    readonly_fields = ["status", "started_at", "stopped_at", "results"]
    fields = ["name", "kind", "description", "status", "started_at", "stopped_at", "winner", "results"]
    inlines = [ExperimentVariantInline]
    actions = ["start_selected", "stop_selected"]

    @admin.display(description="Results")
    def results(self, obj: Experiment) -> str:
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}?experiment={}">Exposure, reply and conversion</a>', reverse("analytics-experiments"), obj.pk
        )

    def get_readonly_fields(self, request, obj=None):
        fixed = ["kind"] if obj is not None and obj.status != Experiment.Status.DRAFT else []
        return [*self.readonly_fields, *fixed, *([] if obj is not None and obj.pk else ["winner"])]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "winner":
            experiment_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = ExperimentVariant.objects.filter(experiment_id=experiment_id or 0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        winner = form.cleaned_data.get("winner") if "winner" in form.changed_data else None
        if winner is not None:
            obj.winner_id = form.initial.get("winner")  # unchanged here: the service sets it, with its checks
        super().save_model(request, obj, form, change)
        if winner is not None:
            try:
                experiment_declare_winner(
                    experiment_id=obj.pk, variant_id=winner.pk, actor=user_actor(request.user), user=request.user
                )
                self.message_user(request, f"{winner.name} is the winner; the experiment is stopped.")
            except ServiceError as exc:
                self.message_user(request, f"The winner was not set: {exc.message}", messages.ERROR)

    @admin.action(description="Start the selected experiments")
    def start_selected(self, request, queryset):
        self._each(request, queryset, experiment_start, "Started {} experiment(s).")

    @admin.action(description="Stop the selected experiments")
    def stop_selected(self, request, queryset):
        self._each(request, queryset, experiment_stop, "Stopped {} experiment(s).")

    def _each(self, request, queryset, service, done: str) -> None:
        actor = user_actor(request.user)
        ids = queryset.values_list("pk", flat=True)
        admin_each(self, request, ids, lambda pk: service(experiment_id=pk, actor=actor, user=request.user), done=done)
