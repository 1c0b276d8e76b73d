"""The starter packs' content: for each kind of business, the questions its leads ask (an FAQ for the owner to
answer), what the drafts should do for it, when to follow up, how sure a draft must be to go out alone, and labelled
examples of its leads, added to the shared ones. Applied by onboarding.packs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pack:
    key: str
    name: str
    questions: tuple[str, ...]
    note: str  # added to every draft's instructions
    hot_note: str  # added to the hot drafts' instructions
    follow_up_days: tuple[int, ...]
    threshold: float  # auto-send confidence, when the owner turns auto-send on
    examples: tuple[tuple[str, str], ...]  # (text, intent)


PACKS = (
    Pack(
        "web_agency",
        "Web agency or designer",
        (
            "How much does a website cost?",
            "How long does a website take?",
            "Do you do online shops?",
            "Do you host and look after the site afterwards?",
            "Can you redesign our existing site?",
        ),
        "Ask what the site is for and by when; quote price ranges only from the knowledge.",
        "Offer a short call to scope the project.",
        (2, 6),
        0.9,
        (
            ("We need a new website for our shop by March, budget is agreed. Can we talk this week?", "hot"),
            ("Our site is broken and we are losing orders. Can you fix it urgently? We'll pay your rate.", "hot"),
            ("Roughly what would a five page website cost? Just getting quotes for now.", "warm"),
            ("Thinking about a redesign later this year, do you do that kind of thing?", "warm"),
            ("Do you have any free website templates I could use?", "cold"),
            ("I'm a student writing about web design, can I ask you some questions?", "cold"),
        ),
    ),
    Pack(
        "beauty",
        "Salon or beauty",
        (
            "How much is a cut and colour?",
            "Do you have any appointments this week?",
            "Do you do bridal hair and make-up?",
            "Do I need a patch test?",
            "Where are you and is there parking?",
        ),
        "Be friendly; mention prices and availability only from the knowledge.",
        "Offer the next free appointment times, or ask which day suits.",
        (1, 4),
        0.85,
        (
            ("Can I book a cut and colour this Saturday morning please?", "hot"),
            ("I need hair and make-up for my wedding on 14 June for me and 3 bridesmaids, are you free?", "hot"),
            ("How much do you charge for gel nails?", "warm"),
            ("Do you do eyelash extensions? Might book next month.", "warm"),
            ("Are you hiring stylists?", "cold"),
            ("Just wondering what products you use, no appointment needed.", "cold"),
        ),
    ),
    Pack(
        "trades",
        "Trades: plumber, electrician, builder",
        (
            "How much is a callout?",
            "Can you come today? It's an emergency.",
            "Do you give free quotes?",
            "Which areas do you cover?",
            "Are you Gas Safe (or NICEIC) registered?",
        ),
        "Ask for the postcode and what is wrong; quote callout fees and prices only from the knowledge.",
        "If something is leaking, unsafe or not working, say how soon you can come and ask for the address.",
        (1, 3),
        0.9,
        (
            ("Water is pouring through my kitchen ceiling, can someone come now? LS6.", "hot"),
            ("Boiler has stopped, no heating or hot water. Can you come today? Happy to pay the callout.", "hot"),
            ("Could you quote for moving a radiator and fitting a new towel rail?", "warm"),
            ("Thinking of a loft conversion next year, do you do free estimates?", "warm"),
            ("Do you sell spare parts? I want to fix it myself.", "cold"),
            ("We are a builders' merchant offering trade discounts to local plumbers.", "cold"),
        ),
    ),
    Pack(
        "clinic",
        "Clinic: dental or physio",
        (
            "Are you taking new patients?",
            "How much is a check-up or first appointment?",
            "Do you take my insurance?",
            "Do you have an emergency appointment?",
            "How long is the wait?",
        ),
        "Be calm and clear; never give medical advice; prices and insurers only from the knowledge.",
        "For pain or an emergency, offer the earliest appointment and say to call if it is urgent.",
        (2, 5),
        0.92,
        (
            ("I have terrible toothache since last night, can I be seen today?", "hot"),
            ("Hurt my back lifting, can I book a physio assessment this week?", "hot"),
            ("Are you taking new NHS or private patients?", "warm"),
            ("How much is a hygienist appointment?", "warm"),
            ("Do you sell electric toothbrushes?", "cold"),
            ("I'm a dental nurse looking for work, are you recruiting?", "cold"),
        ),
    ),
    Pack(
        "tutoring",
        "Tutoring",
        (
            "How much is a lesson?",
            "Which subjects and levels do you teach?",
            "Do you teach online or in person?",
            "Do you have a free trial lesson?",
            "When do you have space?",
        ),
        "Ask the pupil's level, subject and goal (an exam and its date).",
        "Offer a trial lesson time or ask which evenings suit.",
        (2, 6),
        0.88,
        (
            ("My son has his maths GCSE in May and is struggling, can he start next week?", "hot"),
            ("I'd like to book weekly Spanish lessons starting Monday.", "hot"),
            ("What do you charge for A-level chemistry tutoring?", "warm"),
            ("Do you have any space in September for a year 5 pupil?", "warm"),
            ("Can you send me past papers for free?", "cold"),
            ("I run a tutoring agency and would like to list your services.", "cold"),
        ),
    ),
    Pack(
        "restaurant",
        "Restaurant or catering",
        (
            "Do you cater for events and how much per head?",
            "Can you do vegan, gluten-free or halal food?",
            "Do you have a table for tonight?",
            "Can we book the private room?",
            "What is the minimum order for catering?",
        ),
        "Ask the date, the number of guests and dietary needs; prices and menus only from the knowledge.",
        "Confirm whether the date is possible and what you need to hold it.",
        (1, 3),
        0.88,
        (
            ("We'd like catering for 60 people at our office on Friday 12th, budget about £20 a head.", "hot"),
            ("Can I book a table for 8 this Saturday at 7pm?", "hot"),
            ("Do you do wedding catering? Our wedding is next summer.", "warm"),
            ("What are your prices for a buffet lunch?", "warm"),
            ("Do you have any job openings for chefs?", "cold"),
            ("We supply restaurants with eco packaging, can we send samples?", "cold"),
        ),
    ),
    Pack(
        "fitness",
        "Gym, studio or personal trainer",
        (
            "How much is membership or a session?",
            "Do you have a free trial?",
            "What classes do you run and when?",
            "Do you do personal training?",
            "Is there a joining fee or contract?",
        ),
        "Be encouraging; ask the person's goal; prices and timetables only from the knowledge.",
        "Offer a first session or trial time.",
        (1, 4),
        0.88,
        (
            ("I want to start personal training this week, 3 sessions a week. When can we begin?", "hot"),
            ("Can I sign up for the 6am bootcamp starting Monday?", "hot"),
            ("How much is a monthly membership?", "warm"),
            ("Do you run any beginner yoga classes?", "warm"),
            ("Can I use your gym photos for my blog?", "cold"),
            ("We sell protein supplements wholesale, interested?", "cold"),
        ),
    ),
    Pack(
        "photography",
        "Photography",
        (
            "Are you available on our date?",
            "How much is a wedding or event package?",
            "How many photos do we get, and when?",
            "Do you travel?",
            "Can we see a full gallery?",
        ),
        "Ask the date, the place and the kind of shoot; packages and prices only from the knowledge.",
        "Say whether the date looks free and offer a call to talk it through.",
        (2, 7),
        0.9,
        (
            ("Are you free on 21 September for our wedding in York? We'd love to book you.", "hot"),
            ("We need product photos for 40 items by the end of the month, can you start next week?", "hot"),
            ("What do your wedding packages cost?", "warm"),
            ("Do you do family portrait sessions in the spring?", "warm"),
            ("Can I use one of your photos on my website for free?", "cold"),
            ("I'm selling a used camera lens, would you like it?", "cold"),
        ),
    ),
    Pack(
        "real_estate",
        "Estate or letting agent",
        (
            "Is the property still available?",
            "Can I book a viewing?",
            "What would my home sell or let for?",
            "What are your fees?",
            "How long does a sale usually take?",
        ),
        "Ask which property or area, and the person's timescale; fees only from the knowledge.",
        "Offer viewing or valuation times.",
        (2, 7, 14),
        0.9,
        (
            ("Is the 3-bed on Park Road still available? We are mortgage approved and can view tomorrow.", "hot"),
            ("We want to sell our house and move by summer, can you value it this week?", "hot"),
            ("What are your fees for letting a flat?", "warm"),
            ("Just starting to look in the area, what's coming up next month?", "warm"),
            ("I'm a photographer offering property shoots to agents.", "cold"),
            ("What was the sale price of number 12? Just curious.", "cold"),
        ),
    ),
    Pack(
        "saas",
        "Software (SaaS)",
        (
            "How much does it cost per user?",
            "Is there a free trial?",
            "Does it integrate with our tools?",
            "Where is our data stored (GDPR)?",
            "Can we get a demo?",
        ),
        "Ask the team size and what they use today; plans, prices and integrations only from the knowledge.",
        "Offer a demo time.",
        (2, 5, 10),
        0.9,
        (
            ("We have 40 seats and want to switch this quarter. Can we get a demo and a quote this week?", "hot"),
            ("Our trial ends Friday and we're ready to buy the annual plan, how do we pay by invoice?", "hot"),
            ("Does your tool integrate with Salesforce?", "warm"),
            ("Comparing a few options for next year, do you have pricing for nonprofits?", "warm"),
            ("We offer SEO services for SaaS companies, interested?", "cold"),
            ("I found a typo on your pricing page.", "cold"),
        ),
    ),
    Pack(
        "cleaning",
        "Cleaning",
        (
            "How much is a regular clean or a one-off deep clean?",
            "Do you bring your own products?",
            "Do you do end-of-tenancy cleans?",
            "Are you insured and vetted?",
            "Which areas do you cover?",
        ),
        "Ask the size of the place, how often, and the postcode; prices only from the knowledge.",
        "Offer the first available date.",
        (1, 4),
        0.88,
        (
            ("I need an end-of-tenancy clean on Thursday for a 2-bed flat, can you do it?", "hot"),
            ("Can you start a weekly clean of our office from next Monday?", "hot"),
            ("How much would a fortnightly clean of a 3-bed house be?", "warm"),
            ("Do you do carpet cleaning? Might need it in spring.", "warm"),
            ("Do you sell cleaning products?", "cold"),
            ("I'm looking for cleaning work, are you hiring?", "cold"),
        ),
    ),
)
PACKS_BY_KEY = {pack.key: pack for pack in PACKS}
