"""Text fragments for the demo data: transcripts, survey comments, complaint descriptions.

The demo builder picks fragments by index (numpy) and DuckDB joins them into sentences, so that
texts vary without a Python loop per row. Pools are plain tuples; order matters only for
determinism (changing a pool changes the demo for a seed).
"""
from __future__ import annotations

COMPANY = "Northbridge Recovery"

AGENT_FIRST_NAMES = (
    "Maria", "James", "Aisha", "Tom", "Priya", "Daniel", "Keisha", "Luis", "Hannah", "Marcus",
    "Sofia", "Kevin", "Grace", "Omar", "Rachel", "Tyler", "Nadia", "Brian", "Chloe", "Andre",
    "Megan", "Victor", "Lauren", "Darnell", "Emily", "Carlos", "Jasmine", "Ryan", "Tanya", "Sean",
)
AGENT_LAST_NAMES = (
    "Lopez", "Carter", "Nguyen", "Walsh", "Patel", "Kim", "Brooks", "Ramirez", "Schmidt", "Hughes",
    "Moreno", "Fischer", "Bennett", "Haddad", "Sullivan", "Reed", "Khan", "Foster", "Diaz", "Murphy",
)

# Agent openings: one form per name, so the agent says their own name.
GREETING_FORMS = (
    "Hi, this is {name} calling from " + COMPANY + ".",
    "Hello, my name is {name} and I'm with " + COMPANY + ".",
    "Hello, {name} here from " + COMPANY + ".",
    "Hi there, you're speaking with {name} at " + COMPANY + ".",
    "Hi, it's {name} with " + COMPANY + ".",
)

CHAT_GREETING_FORMS = (
    "Hi, you're chatting with {name} from " + COMPANY + ".",
    "Hello, this is {name} at " + COMPANY + ", thanks for getting in touch.",
    "Hi, {name} here from " + COMPANY + ". Thanks for your message.",
    "Welcome, my name is {name} and I'll be helping you today on behalf of " + COMPANY + ".",
    "Thanks for waiting, this is {name} with " + COMPANY + ".",
)

# The mini-Miranda disclosure (15 U.S.C. 1692e(11)) and variants an agent might use.
MIRANDA = (
    "This is an attempt to collect a debt and any information obtained will be used for that purpose.",
    "This is an attempt to collect a debt, and any information obtained will be used for that purpose.",
    "I'm required to tell you this is an attempt to collect a debt and any information obtained will be used for that purpose.",
    "This communication is from a debt collector. This is an attempt to collect a debt and any information obtained will be used for that purpose.",
    "Please be aware that this is an attempt to collect a debt and any information obtained will be used for that purpose.",
    "Just so you know, we are a debt collector and this is an attempt to collect a debt; any information obtained will be used for that purpose.",
)

CHAT_PURPOSE = (
    "How can I help you with your account today?",
    "I can see you have a question about your balance.",
    "Before we start, can you confirm your postcode and date of birth?",
    "What would you like to discuss today?",
)

PURPOSE = (
    "I'm calling about the balance on your account.",
    "Am I speaking with the account holder?",
    "I'm reaching out about an account that was placed with us.",
    "Could you confirm your date of birth for me before we go on?",
    "I'd like to talk about the outstanding balance and some options.",
    "Is now a good time to talk about your account?",
    "I'm following up on the letter we sent you last week.",
)

# Tones: 0 friendly, 1 neutral, 2 hostile.
CUSTOMER_OPEN = (
    (
        "Oh hi, yes, I was actually expecting your call.",
        "Sure, thanks for calling, I wanted to sort this out.",
        "Yes, that's me. I got your letter and I'd like to get it settled.",
        "Hi, yes, now is fine. I've been meaning to ring you.",
        "Yes, speaking. Thanks for being patient with me.",
    ),
    (
        "Yes, this is them. What is it about?",
        "Okay. Which account is this?",
        "I've got a few minutes. Go ahead.",
        "Yes. I got a message about an account.",
        "Right, I'm listening.",
    ),
    (
        "Why do you keep calling me? This is the third time this week.",
        "I already told you people not to call me at work.",
        "How did you get this number? I'm not discussing anything with you.",
        "Seriously? It's dinner time and you're calling me again.",
        "I don't owe you anything and I'm sick of these calls.",
    ),
)

AGENT_LEAD = (
    ("Thanks so much for that.", "I really appreciate it.", "That's great to hear.", "Of course.", "Absolutely."),
    ("Okay.", "Understood.", "Right.", "Thanks for confirming.", "Let me check that for you."),
    ("I hear you, but", "Look,", "I understand you're frustrated, but", "Listen,", "Okay, but"),
)
AGENT_BODY = (
    (
        "We can set up a payment plan that works with your budget.",
        "If it helps, we can split the balance into monthly payments.",
        "There's no pressure today; I just want to find something manageable.",
        "I can offer a reduced settlement if that makes it easier.",
        "Would {amount} a month be manageable for you?",
        "If you can do {amount} on the due date, that would keep things on track.",
        "Let's look at what you can comfortably afford each month.",
        "You can also pay online whenever suits you.",
    ),
    (
        "The current balance shows as {balance}.",
        "I have the balance on file as {balance}.",
        "I can see the account was placed with us a few months ago.",
        "Would you be able to make a payment towards the balance today?",
        "We have a few options, including a payment plan.",
        "I'll note that on the account.",
        "Can you tell me a bit about your situation so I can help?",
    ),
    (
        "the balance of {balance} still needs to be paid.",
        "we need {amount} from you today, no excuses.",
        "this account is seriously overdue and we need a payment today.",
        "I need you to commit to a payment before we end this call.",
        "you need to deal with this now, it isn't going away.",
        "we've sent several letters and had no response.",
        "if we can't agree something today it goes to the next stage.",
    ),
)

# Optional endings of a middle turn; the empty string (no ending) is the most common.
AGENT_TAIL = (
    ("", "", "", "Does that sound okay?", "Take your time.", "Whatever works best for you.", "There's no rush."),
    ("", "", "", "Does that make sense?", "Is that alright?", "Let me know.", "Shall I go ahead?"),
    ("", "", "", "Do you understand?", "That's the situation.", "I need an answer.", "It's that simple."),
)
CUSTOMER_TAIL = (
    ("", "", "", "Thanks again.", "That's a relief.", "I appreciate it."),
    ("", "", "", "I'm not sure yet.", "Let me check.", "We'll see."),
    ("", "", "", "Unbelievable.", "I'm serious.", "I'm done with this."),
)

CUSTOMER_LEAD = (
    ("Okay, that sounds good.", "Thank you.", "That would really help.", "Great.", "Alright."),
    ("Okay.", "Hmm.", "Right.", "I see.", "Let me think."),
    ("No.", "Look,", "Honestly,", "Are you serious?", "Whatever."),
)
CUSTOMER_BODY = (
    (
        "I can do fifty dollars a month starting on the first.",
        "I could manage {amount} if that helps.",
        "Can we say {amount} on payday?",
        "I'd like to pay it off in a few instalments if that's okay.",
        "You've been really helpful, thanks for explaining it.",
        "I can make a payment on Friday when I get paid.",
        "Can you send me the details by email so I can set it up?",
    ),
    (
        "I'll need to check my bank balance first.",
        "Can you send me something in writing?",
        "What's the exact amount you have on file?",
        "You're saying I owe {balance}? That seems high.",
        "I thought I'd already paid part of this.",
        "I might be able to pay something next month.",
    ),
    (
        "I'm not paying anything until you prove this is my debt.",
        "This balance is wrong, I've never had an account with them.",
        "You people call me every single day, it's harassment.",
        "Stop calling me or I'm filing a complaint.",
        "I want to speak to your supervisor.",
    ),
)

VULNERABILITY_CUES = (
    "I've been in and out of hospital since the spring.",
    "My husband passed away last month and I'm still sorting out his things.",
    "I lost my job in the layoffs and I'm struggling.",
    "I'm on benefits at the moment and I can barely cover the rent.",
    "Honestly, I can't afford food this week, let alone this.",
    "I've been dealing with depression and it's hard to cope with calls like this.",
    "Sorry, I'm confused, I don't really understand what this debt is for.",
    "I'm going through chemotherapy right now.",
    "My mother died recently and I've been handling the funeral.",
    "I'm on disability and my income is really limited.",
    "My anxiety is really bad and these calls make it worse.",
    "I was made redundant and I'm waiting on unemployment.",
)

# Language an agent must never use: threats of arrest or jail, false legal action, profanity.
PROHIBITED = (
    "If you don't pay today we will have you arrested.",
    "You could go to jail for ignoring this debt.",
    "We'll take you to court tomorrow and take your house.",
    "We're going to garnish your wages by Friday unless you pay right now.",
    "The sheriff will be at your door if this isn't paid.",
    "Stop wasting my damn time and just pay the bill.",
    "This is bullshit, you owe the money, pay it.",
    "We will report you to the police for fraud.",
)

AGENT_CLOSE = (
    (  # no promise
        "Thanks for your time today. You can reach us on the number in the letter.",
        "I'll make a note on the account and we'll be in touch.",
        "Okay, I'll send that information in writing. Have a good day.",
        "Alright, please call us back when you're ready to discuss it.",
    ),
    (  # promise
        "Great, I've set that up for you and you'll get a confirmation shortly.",
        "Perfect, I've recorded the arrangement. Thanks for working with us.",
        "That's all arranged. You'll receive a text reminder before the due date.",
        "Thank you, the payment date is noted on your account.",
    ),
)

CUSTOMER_CLOSE = (
    ("Thanks, bye.", "Thank you, you've been very kind.", "Great, talk soon.", "Thanks for your help."),
    ("Okay, bye.", "Fine.", "Alright then.", "Okay, I'll look out for it."),
    ("Don't call me again.", "Whatever. Goodbye.", "I'm hanging up now.", "I'll be making a complaint about this."),
)

# Survey comment themes, each with several phrasings.
SURVEY_THEMES = {
    "too many calls": (
        "Too many calls, sometimes three a day.",
        "You call far too often.",
        "The constant calls are stressful.",
        "Please stop calling so much.",
    ),
    "called at bad time": (
        "Called me late at night.",
        "They rang at 7am on a Saturday.",
        "Calls during work hours are a problem for me.",
    ),
    "rude agent": (
        "The agent was rude and pushy.",
        "I felt threatened by the person on the phone.",
        "Agent didn't listen to me at all.",
    ),
    "helpful agent": (
        "The agent was helpful and understanding.",
        "Very polite and patient, thank you.",
        "Helpful agent, explained everything clearly.",
        "Friendly and professional.",
    ),
    "payment plan": (
        "Glad I could set up a payment plan.",
        "The payment plan is affordable, thanks.",
        "Happy with the instalment arrangement.",
    ),
    "balance wrong": (
        "The balance is wrong and nobody will fix it.",
        "I was charged fees I don't recognise.",
    ),
    "easy payment": (
        "Paying online was quick and easy.",
        "Easy to pay by card.",
    ),
}

COMPLAINT_CATEGORIES = (
    "contact frequency",
    "time of contact",
    "harassment",
    "incorrect balance",
    "not my debt",
    "payment not applied",
    "communication tactics",
    "privacy",
)
COMPLAINT_TEXTS = {
    "contact frequency": (
        "I am being called several times a day about this account.",
        "They call me every day even after I asked them to stop calling so often.",
        "I receive calls and texts constantly from this collector.",
    ),
    "time of contact": (
        "They called me after 9pm on a weeknight.",
        "I was called at 7am, before I was awake.",
        "The collector keeps calling me at work.",
    ),
    "harassment": (
        "The agent threatened me and used abusive language.",
        "I was told I would be arrested if I did not pay.",
        "The collector was aggressive and intimidating on the phone.",
    ),
    "incorrect balance": (
        "The balance they are asking for is higher than what I owe.",
        "Fees and interest were added that I never agreed to.",
    ),
    "not my debt": (
        "This is not my debt; I never had an account with this creditor.",
        "I believe this is identity theft and the debt is not mine.",
    ),
    "payment not applied": (
        "I made a payment that has not been applied to my balance.",
        "My payment plan instalments are not showing on the account.",
    ),
    "communication tactics": (
        "They contacted my family about my debt.",
        "They kept sending texts after I said I only want letters.",
    ),
    "privacy": (
        "They discussed my account with a third party.",
        "They left a voicemail with details of my debt on a shared phone.",
    ),
}
