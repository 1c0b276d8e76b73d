"""The fallback replies (no LLM, or it failed) in the languages BizPilot is taught besides English, so a lead who
writes in Spanish is answered in Spanish even without an LLM. Same Django template variables as the business's
templates (first_name, company, fact, business_name, sender_name, and meeting: the times a hot reply offers); the
fact is the business's own sentence, quoted as written (the knowledge is not translated). Polite register (usted,
Sie, vous, Lei, u, Państwo).

These are BizPilot's wording, not the business's: the English templates are the ones an operator edits, so a reply
drafted from these always waits for a person (drafting.review_reasons)."""

from __future__ import annotations

from typing import Any

_FACT = "\n{% if fact %}\n{{ fact }}\n{% endif %}\n"
_TEXT_FACT = "{% if fact %}{{ fact }} {% endif %}"


def _language(
    *, hello: str, regards: str, subjects: tuple[str, str, str], email: tuple[str, str, str], text: tuple[str, ...]
) -> dict[tuple[str, str], tuple[str, str]]:
    """(intent, channel kind) -> (subject, body) for one language. `email` and `text` hold, per intent (hot, warm,
    cold), the words before and after the fact; an email body is greeting, opening, fact, closing, signature."""
    greeting = hello + "{% if first_name %} {{ first_name }}{% endif %},"
    signature = "\n\n" + regards + "\n{{ sender_name }}\n{{ business_name }}"
    result: dict[tuple[str, str], tuple[str, str]] = {}
    for i, intent in enumerate(("hot", "warm", "cold")):
        opening, closing = email[i].split("|")
        before, after = text[i].split("|")
        if intent == "hot":  # times offered (meetings.offers) replace the request for times
            closing = "{% if meeting %}{{ meeting }}{% else %}" + closing + "{% endif %}"
            after = "{% if meeting %}{{ meeting }}{% else %}" + after + "{% endif %}"
        result[(intent, "email")] = (subjects[i], greeting + "\n\n" + opening + "\n" + _FACT + closing + signature)
        result[(intent, "text")] = ("", greeting + " " + before + " " + _TEXT_FACT + after + " - {{ sender_name }}")
    return result


TRANSLATIONS: dict[str, dict[tuple[str, str], tuple[str, str]]] = {
    "es": _language(
        hello="Hola",
        regards="Un saludo,",
        subjects=(
            "{% if company %}Próximos pasos para {{ company }}{% else %}Su consulta a {{ business_name }}{% endif %}",
            "Re: su consulta a {{ business_name }}",
            "Gracias por contactar con {{ business_name }}",
        ),
        email=(
            "Gracias por escribirnos{% if company %} sobre {{ company }}{% endif %}. Vemos que quiere avanzar, así "
            "que no le haremos esperar.|¿Podríamos hablar 15 minutos esta semana para concretar el alcance y los "
            "plazos? Indíquenos dos horarios que le vengan bien y le enviaremos una invitación.",
            "Gracias por contactarnos{% if company %} en nombre de {{ company }}{% endif %}. Con gusto le ayudamos a "
            "ver si somos lo que busca.|Si nos cuenta un poco más sobre lo que tiene en mente, le indicaremos la "
            "mejor opción. También podemos hablar por teléfono cuando le venga bien.",
            "Gracias por su mensaje. Responderemos con gusto a cualquier pregunta, sin compromiso.|Cuando quiera "
            "hablar de su proyecto, basta con responder a este correo.",
        ),
        text=(
            "gracias por contactar con {{ business_name }}.|¿Hablamos 15 minutos esta semana? Díganos qué hora le "
            "viene bien.",
            "gracias por su mensaje a {{ business_name }}.|Cuéntenos un poco más de lo que necesita y le indicaremos "
            "la mejor opción.",
            "gracias por contactar con {{ business_name }}.|Escríbanos cuando quiera, sin compromiso.",
        ),
    ),
    "de": _language(
        hello="Hallo",
        regards="Mit freundlichen Grüßen",
        subjects=(
            "{% if company %}Nächste Schritte für {{ company }}{% else %}Ihre Anfrage an {{ business_name }}"
            "{% endif %}",
            "Re: Ihre Anfrage an {{ business_name }}",
            "Danke für Ihre Nachricht an {{ business_name }}",
        ),
        email=(
            "vielen Dank für Ihre Nachricht{% if company %} zu {{ company }}{% endif %}. Sie möchten loslegen, also "
            "lassen wir Sie nicht warten.|Können wir diese Woche 15 Minuten telefonieren, um Umfang und Zeitplan zu "
            "klären? Nennen Sie uns zwei passende Zeiten, dann schicken wir Ihnen eine Einladung.",
            "vielen Dank für Ihre Anfrage{% if company %} im Namen von {{ company }}{% endif %}. Gern helfen wir "
            "Ihnen herauszufinden, ob wir zu Ihnen passen.|Wenn Sie uns etwas mehr über Ihr Vorhaben erzählen, "
            "nennen wir Ihnen die passende Option. Ein kurzes Telefonat geht auch, wann immer es Ihnen passt.",
            "vielen Dank für Ihre Nachricht. Wir beantworten gern Ihre Fragen, unverbindlich.|Wenn Sie über ein "
            "Projekt sprechen möchten, antworten Sie einfach auf diese E-Mail.",
        ),
        text=(
            "danke für Ihre Nachricht an {{ business_name }}.|Können wir diese Woche kurz 15 Minuten telefonieren? "
            "Nennen Sie uns eine passende Zeit.",
            "danke für Ihre Nachricht an {{ business_name }}.|Erzählen Sie uns etwas mehr, dann nennen wir Ihnen "
            "die passende Option.",
            "danke für Ihre Nachricht an {{ business_name }}.|Schreiben Sie uns jederzeit, unverbindlich.",
        ),
    ),
    "fr": _language(
        hello="Bonjour",
        regards="Bien cordialement,",
        subjects=(
            "{% if company %}Prochaines étapes pour {{ company }}{% else %}Votre demande à {{ business_name }}"
            "{% endif %}",
            "Re : votre question à {{ business_name }}",
            "Merci d'avoir contacté {{ business_name }}",
        ),
        email=(
            "Merci de nous avoir contactés{% if company %} au sujet de {{ company }}{% endif %}. Vous êtes prêt à "
            "avancer, alors nous ne vous faisons pas attendre.|Pourrions-nous nous appeler 15 minutes cette semaine "
            "pour préciser le périmètre et le calendrier ? Indiquez-nous deux créneaux qui vous conviennent et nous "
            "vous enverrons une invitation.",
            "Merci de votre message{% if company %} au nom de {{ company }}{% endif %}. Nous vous aidons volontiers "
            "à voir si nous pouvons répondre à votre besoin.|Si vous nous en dites un peu plus sur votre projet, "
            "nous vous orienterons vers la bonne option. Un court appel est aussi possible, quand vous voulez.",
            "Merci pour votre message. Nous répondons volontiers à toutes vos questions, sans engagement.|Quand "
            "vous serez prêt à parler d'un projet, il suffit de répondre à cet e-mail.",
        ),
        text=(
            "merci d'avoir contacté {{ business_name }} !|Pouvons-nous nous appeler 15 min cette semaine ? "
            "Indiquez-nous l'heure qui vous convient.",
            "merci pour votre message à {{ business_name }}.|Dites-nous-en un peu plus et nous vous orienterons "
            "vers la bonne option.",
            "merci d'avoir contacté {{ business_name }}.|Écrivez-nous quand vous voulez, sans engagement.",
        ),
    ),
    "it": _language(
        hello="Buongiorno",
        regards="Cordiali saluti,",
        subjects=(
            "{% if company %}Prossimi passi per {{ company }}{% else %}La sua richiesta a {{ business_name }}"
            "{% endif %}",
            "Re: la sua domanda a {{ business_name }}",
            "Grazie per aver contattato {{ business_name }}",
        ),
        email=(
            "grazie per averci contattato{% if company %} per {{ company }}{% endif %}. Vediamo che è pronto a "
            "partire, quindi non la facciamo aspettare.|Possiamo sentirci 15 minuti questa settimana per definire "
            "obiettivi e tempi? Ci indichi due orari che le vanno bene e le manderemo un invito.",
            "grazie per averci scritto{% if company %} per conto di {{ company }}{% endif %}. Saremo lieti di "
            "aiutarla a capire se facciamo al caso suo.|Se ci racconta qualcosa in più su ciò che ha in mente, le "
            "indicheremo la soluzione giusta. Possiamo anche sentirci al telefono quando preferisce.",
            "grazie per il suo messaggio. Rispondiamo volentieri a qualsiasi domanda, senza impegno.|Quando vorrà "
            "parlare di un progetto, basta rispondere a questa e-mail.",
        ),
        text=(
            "grazie per aver contattato {{ business_name }}!|Possiamo sentirci 15 minuti questa settimana? Ci dica "
            "l'orario che preferisce.",
            "grazie per il messaggio a {{ business_name }}.|Ci dica qualcosa in più e le indicheremo la soluzione "
            "giusta.",
            "grazie per aver contattato {{ business_name }}.|Ci scriva quando vuole, senza impegno.",
        ),
    ),
    "pt": _language(
        hello="Olá",
        regards="Com os melhores cumprimentos,",
        subjects=(
            "{% if company %}Próximos passos para {{ company }}{% else %}O seu pedido a {{ business_name }}{% endif %}",
            "Re: a sua pergunta a {{ business_name }}",
            "Obrigado por contactar {{ business_name }}",
        ),
        email=(
            "Obrigado pelo seu contacto{% if company %} sobre {{ company }}{% endif %}. Vemos que quer avançar, por "
            "isso não o vamos fazer esperar.|Podemos falar 15 minutos esta semana para confirmar o âmbito e os "
            "prazos? Indique-nos dois horários que lhe convenham e enviamos um convite.",
            "Obrigado pela sua mensagem{% if company %} em nome de {{ company }}{% endif %}. Teremos todo o gosto em "
            "ajudar a perceber se somos a escolha certa.|Se nos contar um pouco mais sobre o que tem em mente, "
            "indicamos a melhor opção. Também podemos falar por telefone quando lhe for conveniente.",
            "Obrigado pela sua mensagem. Respondemos com gosto a qualquer pergunta, sem compromisso.|Quando quiser "
            "falar sobre um projeto, basta responder a este e-mail.",
        ),
        text=(
            "obrigado por contactar {{ business_name }}!|Podemos falar 15 min esta semana? Diga-nos a hora que lhe "
            "convém.",
            "obrigado pela mensagem a {{ business_name }}.|Conte-nos um pouco mais e indicamos a melhor opção.",
            "obrigado por contactar {{ business_name }}.|Escreva-nos quando quiser, sem compromisso.",
        ),
    ),
    "nl": _language(
        hello="Hallo",
        regards="Met vriendelijke groet,",
        subjects=(
            "{% if company %}Volgende stappen voor {{ company }}{% else %}Uw aanvraag bij {{ business_name }}"
            "{% endif %}",
            "Re: uw vraag aan {{ business_name }}",
            "Bedankt voor uw bericht aan {{ business_name }}",
        ),
        email=(
            "Bedankt voor uw bericht{% if company %} over {{ company }}{% endif %}. U wilt verder, dus we laten u "
            "niet wachten.|Kunnen we deze week 15 minuten bellen om de omvang en planning af te stemmen? Geef twee "
            "tijden door die u schikken, dan sturen we een uitnodiging.",
            "Bedankt voor uw bericht{% if company %} namens {{ company }}{% endif %}. We helpen u graag uitzoeken of "
            "we bij u passen.|Als u iets meer vertelt over wat u voor ogen heeft, wijzen we u de juiste optie. Een "
            "kort telefoongesprek kan ook, wanneer het u uitkomt.",
            "Bedankt voor uw bericht. We beantwoorden graag al uw vragen, vrijblijvend.|Wilt u over een project "
            "praten, beantwoord dan gewoon deze e-mail.",
        ),
        text=(
            "bedankt voor uw bericht aan {{ business_name }}!|Kunnen we deze week 15 min bellen? Laat ons weten "
            "welke tijd u past.",
            "bedankt voor uw bericht aan {{ business_name }}.|Vertel ons iets meer, dan wijzen we u de juiste optie.",
            "bedankt voor uw bericht aan {{ business_name }}.|Stuur ons gerust een bericht, vrijblijvend.",
        ),
    ),
    "pl": _language(
        hello="Dzień dobry",
        regards="Z poważaniem,",
        subjects=(
            "{% if company %}Kolejne kroki dla {{ company }}{% else %}Zapytanie do {{ business_name }}{% endif %}",
            "Re: pytanie do {{ business_name }}",
            "Dziękujemy za kontakt z {{ business_name }}",
        ),
        email=(
            "dziękujemy za wiadomość{% if company %} w sprawie {{ company }}{% endif %}. Widzimy, że chcą Państwo "
            "ruszać, więc nie każemy czekać.|Czy możemy porozmawiać 15 minut w tym tygodniu, aby ustalić zakres i "
            "terminy? Prosimy o podanie dwóch dogodnych godzin, a wyślemy zaproszenie.",
            "dziękujemy za wiadomość{% if company %} w imieniu {{ company }}{% endif %}. Chętnie pomożemy "
            "sprawdzić, czy jesteśmy właściwym wyborem.|Jeśli napiszą Państwo trochę więcej o swoich planach, "
            "wskażemy najlepszą opcję. Możemy też krótko porozmawiać telefonicznie w dogodnym terminie.",
            "dziękujemy za wiadomość. Chętnie odpowiemy na wszystkie pytania, bez zobowiązań.|Gdy będą Państwo "
            "gotowi porozmawiać o projekcie, wystarczy odpowiedzieć na tego e-maila.",
        ),
        text=(
            "dziękujemy za kontakt z {{ business_name }}!|Czy możemy porozmawiać 15 min w tym tygodniu? Prosimy "
            "podać dogodną godzinę.",
            "dziękujemy za wiadomość do {{ business_name }}.|Prosimy napisać trochę więcej, a wskażemy najlepszą "
            "opcję.",
            "dziękujemy za kontakt z {{ business_name }}.|Zapraszamy do kontaktu w każdej chwili, bez zobowiązań.",
        ),
    ),
}


def translated_fallback(*, language: str, template: Any) -> tuple[str, str] | None:
    """(subject, body) templates of `template`'s fallback in `language` (an ISO 639-1 code), or None: English, a
    language BizPilot has no wording for, or a template that is not a stored first-reply template (a follow-up
    step's own text is not a first reply: it keeps its words)."""
    if template.pk is None:
        return None
    return TRANSLATIONS.get(language, {}).get((template.intent, template.channel_kind))
