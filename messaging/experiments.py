"""Experiments and the holdout: which variant of how replies are written or sent a lead gets, and which leads get
the business's manual baseline instead. Both are decided by a hash of the lead's id, so a lead always lands in the
same arm, whichever worker or machine asks and however often."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from bizpilot.access import require_permission
from bizpilot.audit import audit_record
from bizpilot.errors import InvalidTransition, NotFound, ValidationFailed
from bizpilot.flags import flags
from messaging.models import Experiment, ExperimentVariant


def hash_share(salt: str, lead_id: int) -> float:
    """A number in [0, 1) fixed by the salt and the lead's id: the lead's place in every split."""
    digest = hashlib.sha256(f"{salt}:{lead_id}".encode()).hexdigest()
    return int(digest[:15], 16) / 16**15


def lead_in_holdout(*, lead_id: int) -> bool:
    """The lead belongs to the holdout (the feature flags' share): no AI draft and no follow-ups, a person answers."""
    share = flags().holdout_share
    return share > 0 and hash_share("holdout", lead_id) < share


def variant_for(experiment: Experiment, variants: list[ExperimentVariant], lead_id: int) -> ExperimentVariant | None:
    """The variant a lead is assigned to: its hash placed on the variants' weights, in id order."""
    total = sum(v.weight for v in variants)
    if total == 0:
        return None
    point = hash_share(f"experiment:{experiment.pk}", lead_id) * total
    for variant in sorted(variants, key=lambda v: v.pk):
        if point < variant.weight:
            return variant
        point -= variant.weight
    return variants[-1]


def experiment_variant_for_lead(*, lead_id: int) -> ExperimentVariant | None:
    """The running experiment's variant for this lead (None when no experiment runs)."""
    experiment = Experiment.objects.filter(status=Experiment.Status.RUNNING).first()
    if experiment is None:
        return None
    return variant_for(experiment, list(experiment.variants.select_related("prompt_template")), lead_id)


def _locked(experiment_id: int) -> Experiment:
    experiment = Experiment.objects.select_for_update().filter(pk=experiment_id).first()
    if experiment is None:
        raise NotFound(f"Experiment {experiment_id} does not exist.")
    return experiment


def experiment_start(*, experiment_id: int, actor: str, user: Any = None) -> Experiment:
    """Start assigning new leads. Needs two variants or more, each set for the experiment's kind; one experiment
    runs at a time."""
    require_permission(user, "messaging.change_experiment", "start experiments")
    with transaction.atomic():
        experiment = _locked(experiment_id)
        if experiment.status != Experiment.Status.DRAFT:
            raise InvalidTransition(f"The experiment is {experiment.status}; only a draft can start.")
        variants = list(experiment.variants.all())
        problems = []
        if len(variants) < 2:
            problems.append("Give it at least two variants.")
        for variant in variants:
            if experiment.kind == Experiment.Kind.AUTO_SEND_THRESHOLD and variant.auto_send_threshold is None:
                problems.append(f"Variant {variant.name!r} needs an auto-send threshold.")
            if variant.weight == 0:
                problems.append(f"Variant {variant.name!r} has weight 0.")
        if problems:
            raise ValidationFailed("The experiment cannot start.", fields={"variants": problems})
        experiment.status = Experiment.Status.RUNNING
        experiment.started_at = timezone.now()
        try:
            with transaction.atomic():
                experiment.save(update_fields=["status", "started_at"])
        except IntegrityError as exc:
            raise InvalidTransition("Another experiment is running: stop it first.") from exc
        audit_record(actor=actor, action="experiment.start", obj=experiment, after={"variants": len(variants)})
    return experiment


def experiment_stop(*, experiment_id: int, actor: str, user: Any = None) -> Experiment:
    """Stop assigning leads; what was assigned stays, and so do the results."""
    require_permission(user, "messaging.change_experiment", "stop experiments")
    with transaction.atomic():
        experiment = _locked(experiment_id)
        if experiment.status != Experiment.Status.RUNNING:
            raise InvalidTransition(f"The experiment is {experiment.status}, not running.")
        experiment.status = Experiment.Status.STOPPED
        experiment.stopped_at = timezone.now()
        experiment.save(update_fields=["status", "stopped_at"])
        audit_record(actor=actor, action="experiment.stop", obj=experiment)
    return experiment


def experiment_declare_winner(*, experiment_id: int, variant_id: int, actor: str, user: Any = None) -> Experiment:
    """Name the variant that won (the experiment stops if it still runs). Making the winner the default (its
    prompt template live, its threshold the policy's) is the admin's next step, on purpose: one change at a time."""
    require_permission(user, "messaging.change_experiment", "declare an experiment's winner")
    with transaction.atomic():
        experiment = _locked(experiment_id)
        variant = experiment.variants.filter(pk=variant_id).first()
        if variant is None:
            raise ValidationFailed("No such variant.", fields={"winner": [f"Variant {variant_id} is not in it."]})
        if experiment.status == Experiment.Status.DRAFT:
            raise InvalidTransition("The experiment never ran.")
        if experiment.status == Experiment.Status.RUNNING:
            experiment.status = Experiment.Status.STOPPED
            experiment.stopped_at = timezone.now()
        experiment.winner = variant
        experiment.save(update_fields=["status", "stopped_at", "winner"])
        audit_record(actor=actor, action="experiment.winner", obj=experiment, after={"winner": variant.name})
    return experiment
