"""Explicit signals in a lead's text: what a reader looks for before judging intent (a request to talk or meet, a
timeline, a budget, purchase words) and the marks of a message that is not a prospect at all (a vendor's pitch, a job
seeker, a link to pay or to verify an account, an automated message, an existing customer's support request).

Pure functions over text, no database and no model: the intent model uses them as features next to the embedding and
the word and character n-grams (classifier.py), and the phishing rule uses them on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from intelligence.signal_words import FOREIGN

_FLAGS = re.IGNORECASE


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])(?:" + "|".join(alternatives) + r")(?![\w])", _FLAGS)


SIGNALS: dict[str, re.Pattern[str]] = {
    "talk": _words(
        r"call me",
        r"call (?:me )?back",
        r"give (?:me|us) a (?:call|ring)",
        r"(?:talk|speak|chat) (?:to|with) (?:someone|somebody|sales|your|a |an |the )",
        r"(?:sales|discovery|intro|quick) call",
        r"(?:a|on a|book a|have a|schedule a|request a) call",
        r"(?:book|schedule|arrange|set up|get) (?:a |an )?"
        r"(?:demo|walkthrough|consultation|meeting|visit|valuation|survey)",
        r"demo",
        r"meet (?:up|you|this|next|to)",
        r"come (?:out|round|over|and|to)",
        r"can (?:we|i) (?:visit|meet|come)",
        r"contact (?:sales|your sales|the sales)",
        r"sales (?:team|rep|person|department|people|guys?)",
    ),
    "booking": _words(
        r"book(?:ing|ed)? (?:me|us|in|a|an|the|for|you|your)",
        r"appointment",
        r"appt",
        r"reserve",
        r"reservation",
        r"table for",
        r"(?:any|free|available) (?:slots?|space|availability|dates?)",
        r"are you (?:free|available) on",
        r"is (?:the|your) [a-z ]{0,20} (?:free|available) on",
        r"hold the date",
        r"walk[- ]?ins?",
    ),
    "timeline": _words(
        r"asap",
        r"a\.s\.a\.p",
        r"urgent(?:ly)?",
        r"urgnt",
        r"emergency",
        r"today",
        r"2day",
        r"tonight",
        r"tomorrow",
        r"tmrw?",
        r"this (?:week|weekend|month|morning|afternoon|evening|friday|saturday|monday)",
        r"next (?:week|month|monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
        r"right (?:now|away)",
        r"immediately",
        r"straight away",
        r"(?:by|before|on) (?:friday|monday|the \d+\w*|\d+ \w+)",
        r"deadline",
        r"as soon as (?:possible|you can)",
        r"now",
    ),
    "purchase": _words(
        r"buy",
        r"purchase",
        r"sign (?:up|today|the|now)?",
        r"contract",
        r"order form",
        r"invoice (?:me|us)",
        r"deposit",
        r"(?:i|we)(?:'ll| will| can)? pay",
        r"go ahead",
        r"proceed",
        r"ready to",
        r"want to (?:start|begin|book|sign|go|proceed|order|buy|hire|appoint|get started)",
        r"(?:get|getting) started",
        r"kick ?off",
        r"upgrade",
        r"confirm (?:the|booking|our)",
        r"(?:we'd|we would|i'd|i would) (?:like|love) to book",
        r"take (?:this|it|us) on",
        r"start (?:this|next|on|asap|immediately|monday|straight)",
    ),
    "budget": re.compile(
        r"(?:budget|approved|signed off|[£$€]\s?\d|\d\s?(?:k|grand)\b|\d+\s?(?:pounds|dollars|euros))", _FLAGS
    ),
    "price": _words(
        r"how much",
        r"hw much",
        r"how many cost",
        r"price[sd]?",
        r"prise",
        r"pricing",
        r"costs?",
        r"quote",
        r"rates?",
        r"fees?",
        r"charge",
        r"ballpark",
        r"roughly",
        r"rough (?:idea|cost|price|quote)",
        r"packages?",
    ),
    "capability": _words(
        r"do (?:you|u) (?:do|offer|have|make|provide|support|take|cover|deliver|install|teach|cater|sell|allow|accept)",
        r"does (?:it|your)",
        r"can (?:it|you) (?:do|handle|integrate|export)",
        r"is there (?:a|an)",
        r"integrat\w*",
        r"difference between",
        r"compar\w*",
        r"free trial",
    ),
    "vendor": _words(
        r"we (?:offer|provide|sell|supply|supplies|help|can (?:get|grow|help|build|provide)|specialise|specialize"
        r"|generate|lease|deliver)",
        r"our (?:platform|software|agency|services|team of|clients|product|plugin|app) (?:helps?|is|are|can|connects)",
        r"partner(?:ship)?s?",
        r"resell\w*",
        r"white[- ]label",
        r"page (?:one|1) of google",
        r"seo",
        r"backlinks?",
        r"guest post",
        r"link[- ]building",
        r"free (?:audit|leads|samples|report|strategy)",
        r"(?:boost|grow|increase|10x) your",
        r"more (?:traffic|bookings|patients|leads|followers|sales)",
        r"(?:price|product) list",
        r"catalogue",
        r"catalog",
        r"trade prices",
        r"wholesale",
        r"per lead",
        r"listing",
        r"directory",
        r"candidates",
        r"account executive",
        r"growth specialist",
        r"kindly revert",
    ),
    "job": _words(
        r"cv",
        r"resume",
        r"vacanc(?:y|ies)",
        r"(?:are you|you) (?:hiring|recruiting)",
        r"job(?:s)?",
        r"position",
        r"internship",
        r"placement",
        r"apprentice(?:ship)?",
        r"looking for (?:work|a job|a role|a position|my first role)",
        r"(?:\d+|five|ten|several) years(?:'|\u2019)? (?:of )?experience",
        r"experience \d+ years",
        r"portfolio attached",
        r"my portfolio",
        r"chair rental",
    ),
    "pay_or_verify": _words(
        r"verify",
        r"verification",
        r"suspended",
        r"overdue",
        r"final notice",
        r"unpaid",
        r"click here",
        r"tap here",
        r"confirm your (?:identity|details|account)",
        r"password (?:expires|expiry)",
        r"account (?:is |has been |will be )?(?:limited|locked|suspended|closed|deleted|flagged)",
        r"unusual activity",
        r"wire transfer",
        r"bank details (?:have )?changed",
        r"remit",
        r"avoid (?:late fees|legal action|prosecution|lose|loss|suspension)",
        r"within (?:24|48) ?h(?:ours)?",
        r"tax refund",
        r"(?:pay|settle) (?:now|immediately|today|within)",
        r"won",
        r"winner",
        r"claim (?:your|now|the)",
        r"guaranteed (?:returns|profits?)",
        r"btc",
        r"bitcoin",
        r"crypto",
        r"lottery",
        r"beneficiary",
    ),
    "link": re.compile(r"(?:https?://|www\.|\b[\w-]+\.(?:com|net|org|info|biz|co|uk|io|ly)(?:/\S*)?\b)", _FLAGS),
    "automated": _words(
        r"unsubscribe",
        r"out of (?:the )?office",
        r"automatic reply",
        r"auto(?:mated)?[- ]?reply",
        r"do not reply",
        r"delivery status",
        r"undeliverable",
        r"could(?:n't| not) be delivered",
        r"verification code",
        r"receipt",
        r"newsletter",
        r"mailing list",
        r"manage preferences",
        r"message delivered",
        r"reply stop",
        r"stop",
        r"has (?:shipped|been dispatched)",
        r"is confirmed for",
    ),
    "support": _words(
        r"my (?:account|password|login|invoice|subscription|order|appointment|membership|booking|p60|key)",
        r"log ?in",
        r"password",
        r"not (?:working|loading|syncing|sending)",
        r"(?:won't|wont|doesn't|can't|cannot) (?:load|log|work|find|make)",
        r"stopped (?:working|syncing)",
        r"broken",
        r"error",
        r"refund",
        r"cancel",
        r"complain\w*",
        r"not happy",
        r"missed",
        r"didn't turn up",
        r"running late",
        r"reschedule",
        r"move my",
        r"the (?:one|site|website) you (?:built|made|set up)",
        r"you (?:fixed|built|did|filed)",
        r"last (?:week|month|year)'?s?",
    ),
    "not_now": _words(
        r"not (?:looking|interested|intrested|ready|now|right now|buying|joining|in a position)",
        r"no (?:budget|plans|rush|dates)",
        r"just (?:browsing|looking|curious|checking|comparing|nosing|saving|collecting|getting a feel)",
        r"maybe (?:next|in|someday|one day|later)",
        r"someday",
        r"one day",
        r"(?:for|until) (?:later|the future|next year|the autumn)",
        r"not for ages",
        r"on hold",
        r"no thanks",
        r"found somewhere",
        r"already (?:have|bought|found)",
        r"all set",
        r"long way off",
    ),
}

# The same signals in the other languages BizPilot is taught (signal_words.py), merged into each pattern.
ENGLISH_SIGNALS = dict(SIGNALS)  # before the other languages join (test_languages holds that English reads the same)
for _name, _alternatives in FOREIGN.items():
    SIGNALS[_name] = re.compile(f"(?:{SIGNALS[_name].pattern})|{_words(*_alternatives).pattern}", _FLAGS)
SIGNAL_NAMES = list(SIGNALS)


def signal_values(text: str) -> list[float]:
    """One value per signal (in SIGNAL_NAMES order): 1.0 when the text shows it, else 0.0; then two shape features:
    a short message (four words or fewer) and a question."""
    values = [1.0 if pattern.search(text) else 0.0 for pattern in SIGNALS.values()]
    words = len(text.split())
    values.append(1.0 if words <= 4 else 0.0)
    values.append(1.0 if "?" in text else 0.0)
    return values


FEATURE_NAMES = [*SIGNAL_NAMES, "short", "question"]


def signals_found(text: str) -> list[str]:
    """The names of the signals the text shows, for explanations."""
    return [name for name, pattern in SIGNALS.items() if pattern.search(text)]


@dataclass(frozen=True)
class ScamCheck:
    is_scam: bool
    reason: str


_MONEY_DEMAND = _words(
    r"pay",
    r"payment",
    r"invoice",
    r"fee",
    r"penalty",
    r"refund",
    r"transfer",
    r"bank details",
    r"wallet",
    r"card",
    r"claim",
    r"prize",
    r"funds",
)


def scam_check(text: str) -> ScamCheck:
    """Phishing and payment scams: a demand to pay, to verify an account or to claim money, with a link or bank
    details, under pressure. Such a lead gets no draft at all. High precision by design: a real customer who asks
    to pay ("send me your bank details and I'll pay the deposit") has no pressure words."""
    pressure = SIGNALS["pay_or_verify"].search(text)
    if not pressure:
        return ScamCheck(False, "")
    money = _MONEY_DEMAND.search(text)
    link = SIGNALS["link"].search(text)
    if link and (money or re.search(r"verify|password|account|suspended|locked", text, _FLAGS)):
        return ScamCheck(True, f'asks to pay or verify through a link ("{pressure.group(0)}", {link.group(0)})')
    if money and re.search(r"bank details|wire|remit|bitcoin|btc|wallet|send your", text, _FLAGS):
        return ScamCheck(True, f'asks for money or bank details under pressure ("{pressure.group(0)}")')
    return ScamCheck(False, "")
