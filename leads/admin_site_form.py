"""The website contact form in the admin: one row of settings (leads.site_form) and the `<script>` tag to paste."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from bizpilot.admin import SettingsRowAdmin
from leads.models import SiteForm
from leads.site_form import FIELDS, SITE_FORM_FIELDS, site_form_current, site_form_save, site_form_validate


class SiteFormForm(forms.ModelForm):
    fields = forms.MultipleChoiceField(  # type: ignore[assignment]  # a form field named like the Meta option
        choices=[(name, name) for name in FIELDS], widget=forms.CheckboxSelectMultiple, label="Fields shown"
    )
    required = forms.MultipleChoiceField(
        choices=[(name, name) for name in FIELDS], widget=forms.CheckboxSelectMultiple, required=False
    )
    captcha_secret = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), help_text="Left empty: kept as it is"
    )

    class Meta:
        model = SiteForm
        fields = list(SITE_FORM_FIELDS)

    def clean_captcha_secret(self):
        return self.cleaned_data.get("captcha_secret") or self.instance.captcha_secret


@admin.register(SiteForm)
class SiteFormAdmin(SettingsRowAdmin):
    form = SiteFormForm
    setting_fields = SITE_FORM_FIELDS
    readonly_fields = ["embed_code", "updated_by", "updated_at"]
    fields = ["embed_code", *SITE_FORM_FIELDS, "updated_by", "updated_at"]
    validate = staticmethod(site_form_validate)
    current_values = staticmethod(site_form_current)
    save_values = staticmethod(site_form_save)

    @admin.display(description="Paste this where the form goes on your site")
    def embed_code(self, obj: SiteForm | None) -> str:
        src = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("site-form-script")
        return format_html(
            '<code id="bp-embed-code">&lt;div id="bizpilot-form"&gt;&lt;/div&gt;&lt;script src="{}" async&gt;'
            "&lt;/script&gt;</code>",
            src,
        )
