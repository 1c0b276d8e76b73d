from __future__ import annotations

from django import forms
from django.contrib import admin

from bizpilot.actors import user_actor
from bizpilot.admin import ReadOnlyAdmin, service_action
from intelligence.knowledge import knowledge_document_save
from intelligence.knowledge_import import (
    knowledge_import_page_remove,
    knowledge_import_site,
    knowledge_import_upload,
    upload_problem,
)
from intelligence.models import (
    Classification,
    IntentExample,
    KnowledgeChunk,
    KnowledgeDocument,
    KnowledgeImport,
    KnowledgeImportPage,
    ModelCall,
    PromptTemplate,
    ReplyClassification,
    VoiceExample,
)
from intelligence.prompt_templates import prompt_template_save, prompt_template_validate


@admin.register(IntentExample)
class IntentExampleAdmin(admin.ModelAdmin):
    list_display = ["text", "intent", "origin", "embedding_model", "created_at"]
    list_filter = ["intent", "origin", "embedding_model"]
    search_fields = ["text"]
    exclude = ["embedding", "text_hash"]
    readonly_fields = ["text", "intent", "origin", "embedding_model", "created_at"]

    def has_add_permission(self, request):
        return False  # examples are embedded on creation: use the seed data or correct a lead's intent


CHUNK_FIELDS = ("ordinal", "kind", "heading", "text", "embedding_model")


class KnowledgeChunkInline(admin.TabularInline):
    model = KnowledgeChunk
    extra = 0
    can_delete = False
    fields = CHUNK_FIELDS
    readonly_fields = CHUNK_FIELDS

    def has_add_permission(self, request, obj=None):
        return False


class KnowledgeDocumentForm(forms.ModelForm):
    class Meta:
        model = KnowledgeDocument
        fields = ["title", "kind", "content"]
        widgets = {"content": forms.Textarea(attrs={"rows": 24, "cols": 100})}


@admin.register(KnowledgeDocument)
class KnowledgeDocumentAdmin(admin.ModelAdmin):
    form = KnowledgeDocumentForm
    list_display = ["title", "kind", "chunk_count", "source_path", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["title", "content"]
    readonly_fields = ["source_path", "created_at", "updated_at"]
    inlines = [KnowledgeChunkInline]

    @admin.display(description="Chunks")
    def chunk_count(self, obj: KnowledgeDocument) -> int:
        return obj.chunks.count()

    def save_model(self, request, obj, form, change):
        # The service saves the text; a job re-chunks and re-embeds it once this request's transaction commits.
        saved = knowledge_document_save(
            document_id=obj.pk if change else None,
            title=form.cleaned_data["title"],
            kind=form.cleaned_data["kind"],
            content=form.cleaned_data["content"],
        )
        obj.pk = saved.pk
        self.message_user(request, "Saved; its chunks are being re-embedded.")


class KnowledgeImportForm(forms.ModelForm):
    """Upload a file, or give the website's address: its pages are read from its sitemap."""

    file = forms.FileField(
        required=False, help_text="PDF, Word (.docx), HTML, Markdown, text, or an FAQ CSV with columns question,answer"
    )
    website = forms.CharField(
        required=False, max_length=500, help_text="For example https://flowrightplumbing.co.uk (its sitemap is read)"
    )

    class Meta:
        model = KnowledgeImport
        fields: list[str] = []

    def clean(self):
        data = super().clean() or {}
        if bool(data.get("file")) == bool((data.get("website") or "").strip()):
            raise forms.ValidationError("Upload a file or give a website's address (one of the two).")
        if data.get("file") and (problem := upload_problem(data["file"].name, data["file"].size)):
            self.add_error("file", problem)
        return data


class KnowledgeImportPageInline(admin.TabularInline):
    model = KnowledgeImportPage
    extra = 0
    can_delete = False
    fields = ["ordinal", "title", "status", "excerpt", "error"]
    readonly_fields = ["ordinal", "title", "status", "excerpt", "error"]
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="What was read")
    def excerpt(self, obj: KnowledgeImportPage) -> str:
        text = " ".join(obj.content.split())
        return text[:240] + ("…" if len(text) > 240 else "")


@admin.register(KnowledgeImport)
class KnowledgeImportAdmin(admin.ModelAdmin):
    """Imports, their progress, and each page read (Knowledge import pages: remove what is wrong)."""

    form = KnowledgeImportForm
    list_display = ["name", "source", "status", "progress", "created_by", "created_at"]
    list_filter = ["status", "source"]
    inlines = [KnowledgeImportPageInline]
    actions = ["resume_selected"]
    readonly_fields = [
        "name",
        "source",
        "kind",
        "status",
        "progress",
        "error",
        "created_by",
        "created_at",
        "finished_at",
    ]

    def get_fields(self, request, obj=None):
        return ["file", "website"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)  # the list's actions; nothing to edit

    @admin.display(description="Progress")
    def progress(self, obj: KnowledgeImport) -> str:
        return f"{obj.done} of {obj.total} pages" if obj.total else "listing the pages…"

    def save_model(self, request, obj, form, change):
        actor = user_actor(request.user)
        upload = form.cleaned_data.get("file")
        if upload:
            made = knowledge_import_upload(name=upload.name, data=upload.read(), actor=actor)
        else:
            made = knowledge_import_site(address=form.cleaned_data["website"], actor=actor)
        obj.pk = made.pk
        self.message_user(request, f"Importing {made.name}: its pages appear here as they are read.")


@admin.register(KnowledgeImportPage)
class KnowledgeImportPageAdmin(ReadOnlyAdmin):
    list_display = ["title", "knowledge_import", "status", "ref"]
    list_filter = ["status", "knowledge_import"]
    search_fields = ["title", "content", "ref"]
    readonly_fields = ["knowledge_import", "ordinal", "ref", "title", "status", "error", "document", "content"]
    actions = [
        service_action(
            "remove_selected",
            "Remove from the knowledge base",
            lambda pk, actor: knowledge_import_page_remove(page_id=pk, actor=actor),
            done="{} page(s) removed from the knowledge base.",
        )
    ]

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.has_perm("intelligence.change_knowledgedocument")


@admin.register(Classification)
class ClassificationAdmin(admin.ModelAdmin):
    list_display = ["lead", "intent", "confidence", "method", "latency_ms", "created_at"]
    list_filter = ["intent", "method"]
    list_select_related = ["lead"]
    readonly_fields = [f.name for f in Classification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReplyClassification)
class ReplyClassificationAdmin(admin.ModelAdmin):
    """How each answer from a lead was read, and what it changed; read-only."""

    list_display = ["lead", "kind", "confidence", "change", "outcome", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["lead"]
    readonly_fields = [f.name for f in ReplyClassification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ModelCall)
class ModelCallAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "operation",
        "provider",
        "model",
        "status",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "latency_ms",
    ]
    list_filter = ["operation", "provider", "model", "status"]
    readonly_fields = [f.name for f in ModelCall._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(VoiceExample)
class VoiceExampleAdmin(admin.ModelAdmin):
    list_display = ["reply_text", "intent", "channel", "edited", "created_at"]
    list_filter = ["intent", "channel", "edited"]
    search_fields = ["reply_text", "lead_text"]
    exclude = ["embedding"]
    readonly_fields = [
        "message_id",
        "intent",
        "channel",
        "lead_text",
        "reply_text",
        "edited",
        "embedding_model",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False  # examples come from approved replies


class PromptTemplateForm(forms.ModelForm):
    class Meta:
        model = PromptTemplate
        fields = [
            "intent",
            "channel_kind",
            "instructions",
            "max_chars",
            "fallback_subject",
            "fallback_body",
            "change_note",
        ]
        widgets = {
            "instructions": forms.Textarea(attrs={"rows": 6, "cols": 100}),
            "fallback_body": forms.Textarea(attrs={"rows": 12, "cols": 100}),
        }

    def clean(self):
        data = super().clean() or {}
        errors = prompt_template_validate(
            fallback_subject=data.get("fallback_subject", ""),
            fallback_body=data.get("fallback_body", ""),
            max_chars=data.get("max_chars") or 0,
        )
        for field_name, messages in errors.items():
            for message in messages:
                self.add_error(field_name, message)
        return data

    def validate_unique(self):
        pass  # the service numbers the new version; (intent, channel, version) is never reused


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    """Saving a template, new or edited, creates a new version; the versions messages came from never change."""

    form = PromptTemplateForm
    list_display = [
        "__str__",
        "intent",
        "channel_kind",
        "version",
        "is_live",
        "change_note",
        "created_by",
        "created_at",
    ]
    list_filter = ["intent", "channel_kind"]
    search_fields = ["instructions", "fallback_body", "change_note"]
    readonly_fields = ["version", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # An edit is the next version of the same template; it cannot move to another intent or channel.
        return [*self.readonly_fields, "intent", "channel_kind"] if obj else self.readonly_fields

    @admin.display(boolean=True, description="Live")
    def is_live(self, obj: PromptTemplate) -> bool:
        latest = (
            PromptTemplate.objects.filter(intent=obj.intent, channel_kind=obj.channel_kind)
            .order_by("-version")
            .values_list("pk", flat=True)
            .first()
        )
        return latest == obj.pk

    def save_model(self, request, obj, form, change):
        saved = prompt_template_save(
            intent=obj.intent,
            channel_kind=obj.channel_kind,
            instructions=form.cleaned_data["instructions"],
            max_chars=form.cleaned_data["max_chars"],
            fallback_subject=form.cleaned_data.get("fallback_subject", ""),
            fallback_body=form.cleaned_data["fallback_body"],
            change_note=form.cleaned_data.get("change_note", ""),
            actor=user_actor(request.user),
        )
        # The admin's redirect and "changed successfully" message then name the new version.
        for field in PromptTemplate._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))

    def has_delete_permission(self, request, obj=None):
        return False  # messages keep the version they were drafted from
