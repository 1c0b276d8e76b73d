"""Meeting times written in the lead's language: "Thursday 10 December at 14:00", "jueves 10 de diciembre a las
14:00", and the sentences that offer them or confirm a booking. 24-hour times in every language (no am/pm to
misread)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Words:
    days: tuple[str, ...]
    months: tuple[str, ...]
    when: str  # {day} {date} {month} {time}
    offer: str  # {minutes} {times} {zone}
    link: str  # {minutes} {link}
    booked: str  # {when} {zone}
    none_work: str  # {times} {zone}
    cancelled: str
    rescheduled: str  # {when} {zone}
    joiner: str  # "or"


WORDS: dict[str, Words] = {
    "en": Words(
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        "{day} {date} {month} at {time}",
        "Could we have a {minutes}-minute call? I can do {times} ({zone} time). Reply with the one that suits you "
        "and I will send an invitation.",
        "Could we have a {minutes}-minute call? Pick a time that suits you here: {link}",
        "You're booked in for {when} ({zone} time). A calendar invitation is on its way.",
        "No problem. How about {times} ({zone} time)? Or tell me a day and time that suits you.",
        "Your meeting is cancelled. Just reply whenever you would like to find another time.",
        "Done: your meeting is now {when} ({zone} time). An updated invitation is on its way.",
        "or",
    ),
    "es": Words(
        ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
        (
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ),
        "el {day} {date} de {month} a las {time}",
        "¿Podríamos hablar {minutes} minutos? Puedo {times} (hora de {zone}). Responda con la que le venga bien "
        "y le enviaré una invitación.",
        "¿Podríamos hablar {minutes} minutos? Elija la hora que le venga bien aquí: {link}",
        "Queda reservada nuestra cita {when} (hora de {zone}). Le llega una invitación de calendario.",
        "No hay problema. ¿Le viene bien {times} (hora de {zone})? O indíquenos el día y la hora que prefiera.",
        "Su cita queda cancelada. Escríbanos cuando quiera buscar otra hora.",
        "Hecho: su cita es ahora {when} (hora de {zone}). Le llega la invitación actualizada.",
        "o",
    ),
    "de": Words(
        ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
        (
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ),
        "{day}, {date}. {month} um {time} Uhr",
        "Wollen wir {minutes} Minuten telefonieren? Ich kann {times} (Zeit {zone}). Antworten Sie einfach mit dem "
        "Termin, der Ihnen passt, dann schicke ich eine Einladung.",
        "Wollen wir {minutes} Minuten telefonieren? Wählen Sie hier einen passenden Termin: {link}",
        "Ihr Termin ist gebucht: {when} (Zeit {zone}). Eine Kalendereinladung ist unterwegs.",
        "Kein Problem. Passt Ihnen {times} (Zeit {zone})? Oder nennen Sie mir einen Tag und eine Uhrzeit.",
        "Ihr Termin ist abgesagt. Melden Sie sich gern, wenn Sie einen neuen Termin finden möchten.",
        "Erledigt: Ihr Termin ist jetzt {when} (Zeit {zone}). Eine neue Einladung ist unterwegs.",
        "oder",
    ),
    "fr": Words(
        ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
        (
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ),
        "le {day} {date} {month} à {time}",
        "Pourrions-nous nous appeler {minutes} minutes ? Je peux {times} (heure de {zone}). Répondez avec le "
        "créneau qui vous convient et je vous enverrai une invitation.",
        "Pourrions-nous nous appeler {minutes} minutes ? Choisissez un créneau ici : {link}",
        "C'est réservé : {when} (heure de {zone}). Une invitation de calendrier arrive.",
        "Pas de souci. Que diriez-vous de {times} (heure de {zone}) ? Ou indiquez-moi le jour et l'heure qui vous "
        "conviennent.",
        "Votre rendez-vous est annulé. Écrivez-nous quand vous voudrez trouver un autre créneau.",
        "C'est fait : votre rendez-vous est maintenant {when} (heure de {zone}). Une invitation mise à jour arrive.",
        "ou",
    ),
    "it": Words(
        ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
        (
            "gennaio",
            "febbraio",
            "marzo",
            "aprile",
            "maggio",
            "giugno",
            "luglio",
            "agosto",
            "settembre",
            "ottobre",
            "novembre",
            "dicembre",
        ),
        "{day} {date} {month} alle {time}",
        "Possiamo sentirci per {minutes} minuti? Sono disponibile {times} (ora di {zone}). Mi risponda con "
        "l'orario che preferisce e le invierò un invito.",
        "Possiamo sentirci per {minutes} minuti? Scelga qui l'orario che preferisce: {link}",
        "Appuntamento fissato: {when} (ora di {zone}). Le arriva un invito per il calendario.",
        "Nessun problema. Le andrebbe bene {times} (ora di {zone})? Oppure mi indichi giorno e ora.",
        "L'appuntamento è annullato. Ci scriva quando vuole trovare un altro orario.",
        "Fatto: l'appuntamento ora è {when} (ora di {zone}). Le arriva l'invito aggiornato.",
        "oppure",
    ),
    "pt": Words(
        ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo"),
        (
            "janeiro",
            "fevereiro",
            "março",
            "abril",
            "maio",
            "junho",
            "julho",
            "agosto",
            "setembro",
            "outubro",
            "novembro",
            "dezembro",
        ),
        "{day}, {date} de {month}, às {time}",
        "Podemos falar {minutes} minutos? Tenho disponível {times} (hora de {zone}). Responda com o horário que "
        "lhe convém e envio um convite.",
        "Podemos falar {minutes} minutos? Escolha aqui o horário que lhe convém: {link}",
        "Fica marcado: {when} (hora de {zone}). Vai receber um convite de calendário.",
        "Sem problema. Que tal {times} (hora de {zone})? Ou diga-me o dia e a hora que prefere.",
        "A sua reunião foi cancelada. Escreva-nos quando quiser marcar outro horário.",
        "Feito: a sua reunião é agora {when} (hora de {zone}). Vai receber o convite atualizado.",
        "ou",
    ),
    "nl": Words(
        ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
        (
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ),
        "{day} {date} {month} om {time}",
        "Zullen we {minutes} minuten bellen? Ik kan {times} (tijd {zone}). Antwoord met het moment dat u past, dan "
        "stuur ik een uitnodiging.",
        "Zullen we {minutes} minuten bellen? Kies hier een moment dat u past: {link}",
        "Uw afspraak staat: {when} (tijd {zone}). Er komt een agenda-uitnodiging.",
        "Geen probleem. Past {times} (tijd {zone})? Of noem een dag en tijd die u schikt.",
        "Uw afspraak is geannuleerd. Laat het weten als u een nieuw moment wilt zoeken.",
        "Geregeld: uw afspraak is nu {when} (tijd {zone}). Er komt een nieuwe uitnodiging.",
        "of",
    ),
    "pl": Words(
        ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela"),
        (
            "stycznia",
            "lutego",
            "marca",
            "kwietnia",
            "maja",
            "czerwca",
            "lipca",
            "sierpnia",
            "września",
            "października",
            "listopada",
            "grudnia",
        ),
        "{day}, {date} {month}, godz. {time}",
        "Czy możemy porozmawiać {minutes} minut? Mogę {times} (czas {zone}). Proszę odpisać, który termin "
        "Państwu pasuje, a wyślę zaproszenie.",
        "Czy możemy porozmawiać {minutes} minut? Proszę wybrać dogodny termin tutaj: {link}",
        "Termin zarezerwowany: {when} (czas {zone}). Zaproszenie do kalendarza jest w drodze.",
        "Nie ma problemu. Czy pasuje {times} (czas {zone})? Albo proszę podać dzień i godzinę.",
        "Spotkanie zostało odwołane. Proszę napisać, gdy zechcą Państwo znaleźć inny termin.",
        "Gotowe: spotkanie jest teraz {when} (czas {zone}). Zaktualizowane zaproszenie jest w drodze.",
        "lub",
    ),
}


def words_for(language: str) -> Words:
    return WORDS.get(language, WORDS["en"])


def zone_label(zone: str) -> str:
    """Europe/London -> London: the city a person recognises."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def when(at: datetime, language: str) -> str:
    """A local time in words: at.tzinfo is the lead's zone."""
    w = words_for(language)
    return w.when.format(
        day=w.days[at.weekday()], date=at.day, month=w.months[at.month - 1], time=f"{at.hour:02d}:{at.minute:02d}"
    )


def times_list(times: list[datetime], language: str) -> str:
    """ "A, B or C" in the language."""
    written = [when(t, language) for t in times]
    if len(written) <= 1:
        return "".join(written)
    return ", ".join(written[:-1]) + f" {words_for(language).joiner} " + written[-1]
