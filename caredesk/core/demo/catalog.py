"""What the demo company is made of: customers, staff, and the inquiries they send.

Every address is on a reserved `.example` domain (RFC 2606) and every phone number
is in the 555-0100…0199 block kept for fiction, so demo mail and calls reach no one.
"""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "caredesk-demo"  # noqa: S105 -- printed for everyone: it is demo data


@dataclass(frozen=True)
class Customer:
    name: str
    domain: str
    area_code: str
    environments: tuple[str, ...]


CUSTOMERS = (
    Customer("Meridian Credit Recovery", "meridian-credit.example", "212", ("NA3", "NA4")),
    Customer("Harbor Point Collections", "harborpoint.example", "617", ("NA4", "SFTP")),
    Customer("Bluestone Health Billing", "bluestone-health.example", "615", ("NA5", "SFTP")),
    Customer("Summit Auto Finance", "summitauto.example", "303", ("NA3", "PDAS")),
    Customer("Cedar Ridge Utilities", "cedarridge-utilities.example", "503", ("NA6", "TECKST")),
    Customer("Pinnacle Student Loans", "pinnacle-loans.example", "512", ("NA5", "SPEECHIQ")),
    Customer("Lakeshore Medical Group", "lakeshore-medical.example", "312", ("NA6", "SFTP")),
    Customer("Northgate Insurance", "northgate-ins.example", "860", ("NA4", "SPEECHIQ")),
)

# fmt: off
FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Mateo", "Isabella", "Lucas",
    "Mia", "Ethan", "Amelia", "James", "Harper", "Benjamin", "Evelyn", "Henry", "Abigail",
    "Daniel", "Priya", "Wei", "Fatima", "Diego", "Aisha", "Kenji", "Grace", "Omar", "Lena",
    "Marcus", "Chloe", "Andre", "Nadia", "Samuel", "Rosa", "Tomás", "Hannah", "Victor", "Zoe",
    "Caleb",
)
LAST_NAMES = (
    "Garcia", "Johnson", "Nguyen", "Patel", "Kim", "Okafor", "Rossi", "Schmidt", "Martin",
    "Hughes", "Reyes", "Cohen", "Sato", "Brennan", "Walker", "Alvarez", "Fischer", "Campbell",
    "Mendes", "Novak", "Lindqvist", "Osei", "Turner", "Morales", "Dubois", "Park", "Shah",
    "Bianchi", "Kowalski", "Ward",
)
# fmt: on

# The service desk's own people: (role, team, name). The first of each role is the
# one printed among the sign-in details.
STAFF = (
    ("admin", None, "Avery Admin"),
    ("manager", "customer-care", "Morgan Blake"),
    ("representative", "customer-care", "Maria Lopez"),
    ("representative", "customer-care", "Jamal Carter"),
    ("representative", "customer-care", "Hannah Weiss"),
    ("representative", "customer-care", "Kevin O'Brien"),
    ("representative", "customer-care", "Sofia Rossi"),
    ("representative", "customer-care", "Tyler Chen"),
    ("engineer", "technical-support", "Dev Raman"),
    ("engineer", "technical-support", "Erin Walsh"),
    ("engineer", "technical-support", "Luis Ortega"),
    ("engineer", "technical-support", "Nina Petrova"),
    ("coordinator", "project-coordination", "Paula Grant"),
    ("coordinator", "project-coordination", "Ben Adeyemi"),
    ("coordinator", "project-coordination", "Claire Dubois"),
    ("emergency", "emergency-care", "Rick Alvarez"),
    ("emergency", "emergency-care", "Jess Morgan"),
)
# The first phone extension of each role that answers calls: 201, 202, … and 301, 302.
EXTENSIONS = {"representative": 201, "emergency": 301}


@dataclass(frozen=True)
class Inquiry:
    """One kind of inquiry and where it goes: `to` is None when Customer Care resolves it."""

    subject: str
    description: str
    to: str | None = None
    category: str | None = None
    priorities: tuple[str, ...] = ("low", "medium", "medium", "high")
    reason: str = ""


CC = (
    Inquiry(
        "Supervisor locked out of the portal",
        "Our supervisor {person} tried to sign in three times this morning and is now locked"
        " out. Could you unlock the account?",
        priorities=("medium", "high"),
    ),
    Inquiry(
        "Question about the invoice for last month",
        "The invoice shows more outbound minutes than our own reports. Can you explain the"
        " difference?",
        priorities=("low", "medium"),
    ),
    Inquiry(
        "Where are the call recordings for the {campaign} campaign?",
        "We need the recordings of yesterday's {campaign} calls for a compliance review."
        " Where do we find them?",
    ),
    Inquiry(
        "Please update our billing contact",
        "Our accounts payable contact is now {person}; please send invoices to them.",
        priorities=("low",),
    ),
    Inquiry(
        "Copy of the monthly usage report",
        "Could you send us the usage report for the last month, split by campaign?",
        priorities=("low", "medium"),
    ),
    Inquiry(
        "DNC list upload format",
        "What file format does the Do-Not-Call list upload expect? Our last file had a header row.",
        priorities=("low", "medium"),
    ),
    Inquiry(
        "Reset the voicemail PIN for our supervisor line",
        "{person} forgot the PIN of the supervisor voicemail box. Please reset it.",
    ),
    Inquiry(
        "Confirm the maintenance window this weekend",
        "Is the maintenance announced on the status page going to affect {environment}?",
        priorities=("low", "medium"),
    ),
)

TS = (
    Inquiry(
        "Dialer stopped placing calls on {environment}",
        "Since {clock} the {campaign} campaign shows agents ready but no calls go out."
        " Nothing changed on our side.",
        to="technical-support",
        priorities=("high", "critical", "critical"),
        reason="Outbound dialing outage for the whole campaign.",
    ),
    Inquiry(
        "Outbound campaign failing with error 503",
        "Every attempt in {campaign} ends with error 503 in the call log. About 40% of the"
        " list is affected.",
        to="technical-support",
        priorities=("high", "critical"),
        reason="Campaign calls fail with a server error.",
    ),
    Inquiry(
        "Agents cannot connect to the softphone",
        "Five agents get 'cannot connect' when they start the softphone. Others in the same"
        " office are fine.",
        to="technical-support",
        priorities=("medium", "high"),
        reason="Softphone registration fails for some agents.",
    ),
    Inquiry(
        "API returns timeouts on account lookups",
        "Our CRM integration gets timeouts from the API on account lookups since {clock}.",
        to="technical-support",
        priorities=("medium", "high", "high"),
        reason="API timeouts on a production integration.",
    ),
    Inquiry(
        "SFTP upload of the nightly list failed",
        "The nightly upload to SFTP failed with 'connection reset'. The list for today was"
        " not loaded.",
        to="technical-support",
        priorities=("medium", "high"),
        reason="Nightly SFTP list upload is failing.",
    ),
    Inquiry(
        "Call recordings are not playing",
        "Recordings from {environment} show a duration but play silence.",
        to="technical-support",
        priorities=("low", "medium", "high"),
        reason="Recording playback is broken.",
    ),
    Inquiry(
        "Inbound IVR is down",
        "Callers to our main number hear a fast busy since {clock}. This is a system outage"
        " for us.",
        to="technical-support",
        priorities=("critical",),
        reason="Inbound IVR outage.",
    ),
    Inquiry(
        "Reports page not loading",
        "The campaign reports page spins and then shows an error for every date range.",
        to="technical-support",
        priorities=("low", "medium"),
        reason="Reporting page is not functioning.",
    ),
)

PC = (
    Inquiry(
        "Change the caller ID for the {campaign} campaign",
        "Please change the outbound caller ID of {campaign} to our new toll-free number.",
        to="project-coordination",
        category="platform-change",
        priorities=("low", "medium"),
        reason="Caller ID change cannot be self-serviced.",
    ),
    Inquiry(
        "Adjust the call pacing on {environment}",
        "We would like the pacing ratio lowered from 2.5 to 1.8 for the collections queues.",
        to="project-coordination",
        category="platform-change",
        priorities=("medium",),
        reason="Pacing adjustment needs a work order.",
    ),
    Inquiry(
        "Modify the routing of IVR option 3",
        "Option 3 of the main menu should go to the payments queue instead of general.",
        to="project-coordination",
        category="platform-change",
        priorities=("low", "medium"),
        reason="IVR routing change.",
    ),
    Inquiry(
        "Create a Spanish-language inbound queue",
        "We are hiring bilingual agents and need a new inbound queue with Spanish prompts.",
        to="project-coordination",
        category="creation-request",
        priorities=("low", "medium"),
        reason="New queue and prompts to be created.",
    ),
    Inquiry(
        "Add new disposition codes",
        "Please create the disposition codes 'Promise to pay' and 'Dispute filed' for all"
        " campaigns.",
        to="project-coordination",
        category="creation-request",
        priorities=("low",),
        reason="New disposition codes to be created.",
    ),
    Inquiry(
        "Build a payment IVR flow",
        "We want callers to be able to pay by card in the IVR without an agent.",
        to="project-coordination",
        category="creation-request",
        priorities=("medium",),
        reason="New IVR feature.",
    ),
    Inquiry(
        "Upgrade our account to LiveVox 12",
        "We saw the release notes and would like to move to LiveVox 12. When can we upgrade?",
        to="project-coordination",
        category="platform-upgrade",
        priorities=("low", "medium"),
        reason="Customer requests a product upgrade.",
    ),
    Inquiry(
        "Schedule the API 12.0 upgrade",
        "Our developers are ready for API 12.0; please plan the upgrade on {environment}.",
        to="project-coordination",
        category="platform-upgrade",
        priorities=("medium",),
        reason="Platform upgrade to schedule.",
    ),
    Inquiry(
        "How do I set up a callback campaign?",
        "Could you walk us through setting up a callback campaign step-by-step?",
        to="project-coordination",
        category="complex-self-service",
        priorities=("low",),
        reason="Step-by-step guidance requested.",
    ),
    Inquiry(
        "Training for twelve new supervisors",
        "We have twelve new supervisors starting next month and would like a training session.",
        to="project-coordination",
        category="complex-self-service",
        priorities=("low", "medium"),
        reason="Training request.",
    ),
)

CAMPAIGNS = ("Early Stage", "Late Stage", "Payment Reminder", "Welcome Calls", "Renewals")

ACKNOWLEDGEMENTS = (
    "Hello {name},\n\nthank you for contacting Customer Care. Your reference is {number}."
    " I am looking into this now and will update you shortly.\n\n{agent}",
    "Hi {name},\n\nthanks for reaching out. I have opened {number} for this and I'm on it."
    "\n\n{agent}",
    "Hello {name},\n\nwe received your request ({number}). I'm checking the details with"
    " the team and will get back to you.\n\n{agent}",
)
RESOLUTIONS = (
    "Hello {name},\n\nthis is done on our side. Please let us know if anything else comes"
    " up; we will close {number} in a few days.\n\n{agent}",
    "Hi {name},\n\nI have taken care of it and confirmed it works. Closing {number} as"
    " resolved.\n\n{agent}",
)
QUESTIONS = (
    "Could you send us the account and campaign ids so we can check?",
    "Could you tell us the time of the last attempt and one example phone number?",
    "Could you confirm which users are affected?",
)
CUSTOMER_REPLIES = (
    "Thanks, here are the details you asked for.",
    "Yes, that is right. It still happens this morning.",
    "Thank you, that works for us.",
    "Any update on this? It is becoming urgent for us.",
)
ESCALATION_FIRST = {
    "technical-support": "Hello {name},\n\nI'm {agent} from Technical Support and I am taking"
    " {number} (from {origin}). I am starting the troubleshooting now and will keep you"
    " posted by email.",
    "project-coordination": "Hello {name},\n\nI'm {agent}, your Project Coordinator for {number}"
    " (from {origin}). I will prepare the next steps and send them to you by email.",
}
NOTES = (
    "Checked the carrier dashboard: no incident reported.",
    "Same symptom as last week on another account; linking for reference.",
    "Customer called again; told them the engineer is on it.",
    "Verified the configuration in the admin console; nothing changed recently.",
    "Confirmed with the customer by phone; waiting for their test.",
)
WORK_ORDER_SCOPES = (
    "Apply the requested configuration change in production, verify with the customer.",
    "Build and test in staging, then deploy in the agreed window.",
    "Create the new objects, load prompts, run an end-to-end test call.",
)
ESTIMATES = ("2 hours", "half a day", "1 day", "3 days", "1 week")
