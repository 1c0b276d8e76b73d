from __future__ import annotations

from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"
    operator_permissions = ["leads.view_lead", "leads.view_inboundmessage", "leads.view_leadimport"]

    def ready(self) -> None:
        from anymail.signals import inbound

        inbound.connect(_on_inbound_email, dispatch_uid="leads.inbound_email")


def _on_inbound_email(sender, *, event, esp_name: str, **kwargs) -> None:
    import logging

    from bizpilot.errors import ServiceError
    from leads.ingest import email_inbound_receive

    try:
        email_inbound_receive(message=event.message, esp_name=esp_name)
    except ServiceError as exc:  # an email that can never become a lead: log it rather than make the ESP retry
        logging.getLogger(__name__).warning("inbound email refused: %s %s", exc.message, exc.fields)
