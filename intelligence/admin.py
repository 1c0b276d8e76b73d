from __future__ import annotations

from django.contrib import admin

from intelligence.models import Classification, IntentExample, KnowledgeChunk, KnowledgeDocument, ModelCall


@admin.register(IntentExample)
class IntentExampleAdmin(admin.ModelAdmin):
    list_display = ["text", "intent", "origin", "embedding_model", "created_at"]
    list_filter = ["intent", "origin", "embedding_model"]
    search_fields = ["text"]
    exclude = ["embedding", "text_hash"]
    readonly_fields = ["text", "intent", "origin", "embedding_model", "created_at"]

    def has_add_permission(self, request):
        return False  # examples are embedded on creation: use the seed data or correct a lead's intent


class KnowledgeChunkInline(admin.TabularInline):
    model = KnowledgeChunk
    extra = 0
    can_delete = False
    fields = ["ordinal", "heading", "text", "embedding_model"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(KnowledgeDocument)
class KnowledgeDocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "source_path", "updated_at"]
    search_fields = ["title", "content"]
    readonly_fields = ["title", "source_path", "content", "content_hash", "created_at", "updated_at"]
    inlines = [KnowledgeChunkInline]

    def has_add_permission(self, request):
        return False  # documents come from `manage.py load_knowledge PATH`


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
