"""The words a lead uses to name a meeting time, per language BizPilot reads: weekdays, today and tomorrow,
ordinals for "the second one", and the cues for "none of those", "cancel", "move it" and for a range ("any time
after 4", "next week") that names no one slot. Lower case, without the accents a hurried writer drops (the text
is folded the same way)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case without accents: "Miércoles" -> "miercoles"; ł -> l."""
    text = text.lower().replace("ł", "l").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


WEEKDAYS: dict[str, int] = {
    # en
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2, "weds": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
    # es
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6,
    # de
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5, "sonntag": 6,
    # fr
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
    # it
    "lunedi": 0, "martedi": 1, "mercoledi": 2, "giovedi": 3, "venerdi": 4, "sabato": 5, "domenica": 6,
    # pt (segunda..sexta alone are also ordinals: only with -feira, or after "na"/"nesta"/"proxima": see answers)
    "segunda-feira": 0, "terca-feira": 1, "quarta-feira": 2, "quinta-feira": 3, "sexta-feira": 4,
    # nl
    "maandag": 0, "dinsdag": 1, "woensdag": 2, "donderdag": 3, "vrijdag": 4, "zaterdag": 5, "zondag": 6,
    # pl (with the accusative after "w": w srode, w sobote, w niedziele)
    "poniedzialek": 0, "wtorek": 1, "sroda": 2, "srode": 2, "czwartek": 3, "piatek": 4, "sobota": 5,
    "sobote": 5, "niedziela": 6, "niedziele": 6,
}  # fmt: skip
PORTUGUESE_SHORT_DAYS = {"segunda": 0, "terca": 1, "quarta": 2, "quinta": 3, "sexta": 4}
PORTUGUESE_DAY_LEAD = ("na", "nesta", "proxima", "esta", "para")

# Days from today.
RELATIVE_DAYS: dict[str, int] = {
    "today": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "day after tomorrow": 2,
    "hoy": 0, "manana": 1, "pasado manana": 2,
    "heute": 0, "morgen": 1, "ubermorgen": 2,
    "aujourd'hui": 0, "aujourdhui": 0, "demain": 1, "apres-demain": 2,
    "oggi": 0, "domani": 1, "dopodomani": 2,
    "hoje": 0, "amanha": 1, "depois de amanha": 2,
    "vandaag": 0, "overmorgen": 2,
    "dzis": 0, "dzisiaj": 0, "jutro": 1, "pojutrze": 2,
}  # fmt: skip
# "morgen"/"manana" also mean "morning": "por la manana", "am Morgen", "'s morgens" are parts of the day.
MORNING_PHRASES = ("por la manana", "de la manana", "am morgen", "'s morgens", "s'morgens", "in the morning")

ORDINALS: dict[str, int] = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "last": -1,
    "primera": 0, "primero": 0, "segunda": 1, "segundo": 1, "tercera": 2, "tercero": 2, "ultima": -1, "ultimo": -1,
    "erste": 0, "ersten": 0, "erster": 0, "zweite": 1, "zweiten": 1, "zweiter": 1, "dritte": 2, "dritten": 2,
    "letzte": -1, "letzten": -1,
    "premier": 0, "premiere": 0, "deuxieme": 1, "second ": 1, "troisieme": 2, "dernier": -1, "derniere": -1,
    "primo": 0, "prima": 0, "secondo": 1, "seconda": 1, "terzo": 2, "terza": 2, "ultimo ": -1,
    "primeiro": 0, "primeira": 0, "terceira": 2, "terceiro": 2,
    "eerste": 0, "tweede": 1, "derde": 2, "laatste": -1,
    "pierwszy": 0, "pierwsza": 0, "pierwszym": 0, "drugi": 1, "druga": 1, "drugim": 1, "trzeci": 2, "trzecia": 2,
    "ostatni": -1,
}  # fmt: skip
# An ordinal counts only beside one of these (so "my second question" is no choice of time).
ORDINAL_NOUNS = (
    "one", "option", "slot", "time", "choice", "suggestion", "works", "is fine", "please", "sounds",
    "opcion", "hora", "propuesta", "me viene", "me va",
    "termin", "vorschlag", "option", "passt",
    "creneau", "option", "proposition", "me convient", "me va",
    "opzione", "orario", "proposta", "va bene",
    "opcao", "horario", "serve", "da-me jeito",
    "optie", "tijd", "moment", "past", "is goed",
    "termin", "opcja", "opcje", "pasuje",
)  # fmt: skip

PM_WORDS = (
    "pm", "p.m", "afternoon", "evening", "tarde", "nachmittag", "abends", "apres-midi", "soir", "pomeriggio",
    "sera", "da tarde", "middags", "avonds", "po poludniu", "wieczorem",
)  # fmt: skip
AM_WORDS = ("am", "a.m", "morning", "manana", "vormittag", "morgens", "matin", "mattina", "ochtend", "rano")
NOON_WORDS = ("noon", "midday", "mediodia", "mittag", "midi", "mezzogiorno", "meio-dia", "poludnie")

# A time given as a range or a window names no one slot.
RANGE_CUES: dict[str, tuple[str, ...]] = {
    "en": ("any time", "anytime", "after", "before", "between", "from", "until", "or later", "or earlier", "onwards"),
    "es": ("cualquier", "despues de", "antes de", "entre", "a partir de", "desde"),
    "de": ("jederzeit", "nach", "vor", "zwischen", "ab", "bis"),
    "fr": ("n'importe", "apres", "avant", "entre", "a partir de", "des"),
    "it": ("qualsiasi", "dopo", "prima delle", "tra le", "fra le", "dalle", "a partire"),
    "pt": ("qualquer", "depois das", "antes das", "a partir das", "entre"),
    "nl": ("wanneer", "na", "voor", "tussen", "vanaf"),
    "pl": ("kiedykolwiek", "po", "przed", "miedzy", "od"),
}
NEXT_WEEK = (
    "next week", "semana que viene", "proxima semana", "nachste woche", "naechste woche", "semaine prochaine",
    "prossima settimana", "settimana prossima", "volgende week", "przyszlym tygodniu", "przyszly tydzien",
)  # fmt: skip
NONE_WORK = (
    "none of those", "none of these", "none of them", "none work", "neither", "can't do any", "cannot do any",
    "don't work", "doesn't work", "do not work", "none suit", "none of the",
    "ninguna", "ninguno", "no me viene bien", "no me va",
    "keiner", "keine der", "passt leider nicht", "passen leider nicht", "passt mir nicht", "passen nicht",
    "aucun", "aucune", "ne me convient pas", "ne me conviennent pas",
    "nessuno", "nessuna", "non mi va bene", "non vanno bene",
    "nenhum", "nenhuma", "nao me da jeito", "nao da",
    "geen van", "past niet", "passen niet", "komt niet uit",
    "zaden", "zadna", "zadne", "nie pasuje", "nie pasuja",
)  # fmt: skip
CANCEL = (
    "cancel", "call it off", "won't be able to make", "can't make it", "cannot make it",
    "cancelar", "anular",
    "absagen", "stornieren", "abzusagen",
    "annuler", "annule",
    "annullare", "disdire", "annullo",
    "desmarcar", "cancelar",
    "annuleren", "afzeggen", "afmelden",
    "odwolac", "odwoluje", "anulowac", "anuluje",
)  # fmt: skip
RESCHEDULE = (
    "reschedule", "move it", "move the", "move our", "change the time", "push it",
    "cambiar", "mover",
    "verschieben", "verlegen",
    "deplacer", "reporter", "decaler",
    "spostare", "rimandare",
    "remarcar", "mudar", "alterar",
    "verzetten", "verplaatsen",
    "przelozyc", "przesunac", "zmienic",
)  # fmt: skip
