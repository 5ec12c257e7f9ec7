"""SMART example goals a clinician can start from, in the eight areas of therapy work.

Each template is a goal body ready for `POST /v1/clients/{id}/goals` once dates are added
(`template_goal_with_dates`), plus a few small steps in plan order: goals are reached by breaking
them into small steps and tracking progress. Baselines and targets are typical starting points
for about 12 weeks; the clinician adjusts them, and the wording, to the client.

The content is evidence-informed (emotion diaries, paced breathing, urge surfing, behavioural
activation, assertive "I" statements, self-compassion practice, stimulus control, a consistent
wake time). Anything that needs a clinician says so: exposure is only ever practised as planned
with the therapist, and the trauma templates are about stabilisation and pacing, never about
revisiting or confronting. No template holds client-specific data.

Every goal passes the SMART validator (`app.goals.smart.evaluate_goal`) with all five criteria at
"pass"; `tests/goal_templates/test_catalog.py` checks this.
"""

from __future__ import annotations

import copy
import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from app.pagination import split_page

TemplateCategory = Literal[
    "emotional_awareness",
    "coping_skills",
    "healthy_behaviors",
    "communication",
    "trauma_recovery",
    "self_compassion",
    "relationships",
    "sleep",
    "other",
]
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
DEFAULT_WEEKS = 12


class Recurrence(BaseModel):
    """A habit-like step: `times` per day (daily) or per week (weekly)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    frequency: Literal["daily", "weekly"]
    times: Annotated[int, Strict(), Field(ge=1, le=7)] = 1


class SuggestedStep(BaseModel):
    """One small step of a template's action plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    recurrence: Recurrence | None


class GoalTemplate(BaseModel):
    """A SMART example goal and the small steps that lead to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=SLUG_PATTERN, max_length=100)
    category: TemplateCategory
    name: str = Field(min_length=1, max_length=80)
    goal: dict[str, Any]
    suggested_steps: list[SuggestedStep] = Field(min_length=3, max_length=5)

    @model_validator(mode="after")
    def _goal_in_own_category(self) -> Self:
        if self.goal.get("category") != self.category:
            raise ValueError("the goal's category must be the template's category")
        return self


def template_goal_with_dates(
    template: GoalTemplate, start: datetime.date, weeks: int = DEFAULT_WEEKS
) -> dict[str, Any]:
    """The template's goal body (a copy) with ISO `start_date` and `target_date` added."""
    if isinstance(start, datetime.datetime):
        raise TypeError("start must be a date, not a datetime")
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    body = copy.deepcopy(template.goal)
    body["start_date"] = start.isoformat()
    body["target_date"] = (start + datetime.timedelta(weeks=weeks)).isoformat()
    return body


# --- Building blocks -------------------------------------------------------------------------


def _daily(times: int = 1) -> Recurrence:
    return Recurrence(frequency="daily", times=times)


def _weekly(times: int = 1) -> Recurrence:
    return Recurrence(frequency="weekly", times=times)


def _step(title: str, description: str, recurrence: Recurrence | None = None) -> SuggestedStep:
    return SuggestedStep(title=title, description=description, recurrence=recurrence)


def _count(name: str, unit: str, baseline: int, target: int) -> dict[str, Any]:
    return {
        "name": name,
        "unit": unit,
        "kind": "count",
        "direction": "increase",
        "baseline": baseline,
        "target": target,
    }


def _rating(name: str, baseline: int, target: int) -> dict[str, Any]:
    """A weekly self-rating from 0 to 10 that should go up."""
    return {
        "name": name,
        "unit": "rating from 0 to 10",
        "kind": "scale",
        "direction": "increase",
        "baseline": baseline,
        "target": target,
        "scale_min": 0,
        "scale_max": 10,
    }


def _levels(much_less: str, less: str, expected: str, more: str, much_more: str) -> dict[str, str]:
    """Goal Attainment Scaling, -2 to +2; "0" is the expected outcome (the measure's target)."""
    return {"-2": much_less, "-1": less, "0": expected, "1": more, "2": much_more}


def _template(
    *,
    template_id: str,
    category: TemplateCategory,
    name: str,
    title: str,
    description: str,
    measure: dict[str, Any],
    relevance: str,
    gas_levels: dict[str, str],
    steps: list[SuggestedStep],
    priority: Literal["high", "medium", "low"] = "medium",
) -> GoalTemplate:
    goal = {
        "title": title,
        "description": description,
        "category": category,
        "priority": priority,
        "measure": measure,
        "relevance": relevance,
        "gas_levels": gas_levels,
        "gas_weight": 1.0,
    }
    return GoalTemplate(
        id=template_id, category=category, name=name, goal=goal, suggested_steps=steps
    )


# --- Understanding emotions and triggers -----------------------------------------------------

_EMOTIONAL_AWARENESS = (
    _template(
        template_id="emotional-awareness-feelings-diary",
        category="emotional_awareness",
        name="Evening feelings diary",
        title="Write a short feelings diary entry each evening",
        description="Before bed, spend about five minutes writing down one strong feeling from "
        "the day, how intense it was from 0 to 10, what set it off, and what you did next. "
        "Paper or a notes app both work; bring the diary to sessions.",
        measure=_count("Evenings with a diary entry", "evenings per week", 1, 5),
        relevance="Naming feelings and what set them off makes patterns visible, so you can "
        "notice a reaction building and choose a response instead of being carried along by it.",
        gas_levels=_levels(
            "0-1 diary entries in the week",
            "2-4 diary entries in the week",
            "5 diary entries in the week, each naming a feeling, its trigger and what happened "
            "next",
            "6 diary entries in the week",
            "A diary entry every evening of the week",
        ),
        steps=[
            _step(
                "Choose a diary format and a set time",
                "Pick paper or a notes app and a time before bed. Use a simple layout: feeling, "
                "intensity 0-10, what set it off, what I did.",
            ),
            _step(
                "Set a daily reminder",
                "A phone alarm or a note by the bed at the chosen time.",
            ),
            _step(
                "Write the evening entry",
                "Five minutes at most: one feeling, its intensity, what set it off and what you "
                "did next.",
                _daily(),
            ),
            _step(
                "Look over the week's entries",
                "Mark the feelings and triggers that came up more than once.",
                _weekly(),
            ),
            _step(
                "Talk through two entries in session",
                "Choose one or two entries to go through with your therapist.",
                _weekly(),
            ),
        ],
    ),
    _template(
        template_id="emotional-awareness-feelings-check-in",
        category="emotional_awareness",
        name="One-minute feelings check-in",
        title="Pause for a one-minute feelings check-in three times a day",
        description="At set times, for example mid-morning, mid-afternoon and early evening, stop "
        "for one minute, notice what you feel in your body, then name the emotion and rate its "
        "strength from 0 to 10. Use a list of feeling words if the right word is hard to find.",
        measure=_count("Days with at least two check-ins", "days per week", 0, 5),
        relevance="Emotions are easier to handle when you notice them early, while they are "
        "still small, than once they have already peaked.",
        gas_levels=_levels(
            "0-1 days in the week with at least two check-ins",
            "2-4 days in the week with at least two check-ins",
            "5 days in the week with at least two check-ins",
            "6 days in the week with at least two check-ins",
            "7 days in the week with at least two check-ins, three on most days",
        ),
        steps=[
            _step(
                "Get a list of feeling words",
                "Use a feelings wheel or word list from your therapist, so there are words beyond "
                '"fine" or "stressed".',
            ),
            _step(
                "Set three check-in reminders",
                "Choose times that fit your day and set phone alarms, or link the check-ins to "
                "routines such as meals.",
            ),
            _step(
                "Do the one-minute check-in",
                "Stop, take a breath, notice where you feel something in your body, then name the "
                "emotion and rate it from 0 to 10. Tick it off when done.",
                _daily(3),
            ),
            _step(
                "Share what you noticed in session",
                "Which emotions came up most, and which were hardest to name.",
                _weekly(),
            ),
        ],
    ),
    _template(
        template_id="emotional-awareness-triggers-warning-signs",
        category="emotional_awareness",
        name="Triggers and early warning signs",
        title="Identify main triggers and their early warning signs",
        description="With your therapist, list the situations, people, places or thoughts that "
        "most often set off strong emotions, and for each one the first signs in your body, "
        "thoughts or behaviour that a reaction is building.",
        measure=_count(
            "Triggers listed with at least one early warning sign", "triggers on the list", 0, 5
        ),
        relevance="Knowing your triggers and the first signs of a reaction lets you plan ahead "
        "and step in before a feeling becomes overwhelming.",
        gas_levels=_levels(
            "No triggers written down",
            "1-4 triggers listed with an early warning sign",
            "5 triggers listed, each with at least one early warning sign",
            "5 or more triggers listed, and an early warning sign noticed in the moment at least "
            "once",
            "5 or more triggers listed, and early warning signs noticed in the moment and acted "
            "on (for example with a pause or a coping skill) at least twice",
        ),
        steps=[
            _step(
                "Look back at three recent strong reactions",
                "In session, go through what happened just before each one: where you were, who "
                "was there, and what you were thinking.",
            ),
            _step(
                "Note triggers from the week",
                "Twice a week, add any new trigger to the list, with the first sign you noticed.",
                _weekly(2),
            ),
            _step(
                "Write the early warning signs for each trigger",
                'Body signs (tight chest, hot face), thoughts ("here we go again") or actions '
                "(raising your voice).",
            ),
            _step(
                "Choose two triggers to plan for",
                "Review the list in session, group similar triggers, and pick two to plan a "
                "response for first.",
            ),
        ],
    ),
)

# --- Coping strategies -------------------------------------------------------------------------

_COPING_SKILLS = (
    _template(
        template_id="coping-skills-paced-breathing",
        category="coping_skills",
        name="Paced breathing",
        title="Practise paced breathing for five minutes twice a day",
        description="Breathe gently at about six breaths a minute, with the out-breath longer "
        "than the in-breath (for example in for 4, out for 6), for five minutes. Practise when "
        "calm first, so the skill is ready when stress rises. If you feel light-headed, breathe "
        "less deeply.",
        measure=_count("Days with two paced-breathing practices", "days per week", 1, 5),
        relevance="Slow breathing with a longer out-breath calms the body's stress response, "
        "giving you a quick skill you can use anywhere before reacting.",
        gas_levels=_levels(
            "0-1 days in the week with two practices",
            "2-4 days in the week with two practices",
            "5 days in the week with two practices",
            "6-7 days in the week with two practices",
            "6-7 days in the week with two practices, and paced breathing used in at least two "
            "stressful moments",
        ),
        steps=[
            _step(
                "Learn the breathing pattern in session",
                "Practise the count with your therapist or a pacing app until it feels "
                "comfortable.",
            ),
            _step(
                "Choose two daily practice times",
                "Link them to existing routines, such as after breakfast and before bed.",
            ),
            _step(
                "Practise paced breathing for five minutes",
                "Rate tension from 0 to 10 before and after each practice.",
                _daily(2),
            ),
            _step(
                "Use it in a mildly stressful moment",
                "Once it feels familiar, use a minute of paced breathing when stress is around 4 "
                "to 6 out of 10, rather than at its peak.",
                _weekly(2),
            ),
        ],
    ),
    _template(
        template_id="coping-skills-urge-surfing",
        category="coping_skills",
        name="Urge surfing",
        title="Use urge surfing to ride out unhelpful urges",
        description="When an urge shows up (for example to drink, smoke, binge or check your "
        "phone), notice it without acting on it: rate it from 0 to 10, notice where it sits in "
        "your body, and watch it rise, peak and fall like a wave for at least 10 minutes before "
        "deciding what to do. If urges involve harming yourself, follow the safety plan agreed "
        "with your therapist.",
        measure=_count("Urges surfed for 10 minutes before deciding", "urges per week", 0, 3),
        relevance="Urges usually peak and pass within minutes; riding them out shows you that "
        "you can feel an urge without having to act on it.",
        gas_levels=_levels(
            "No urges surfed in the week",
            "1-2 urges surfed in the week",
            "3 urges surfed in the week",
            "4-5 urges surfed in the week",
            "6 or more urges surfed in the week",
        ),
        steps=[
            _step(
                "Choose the urge to practise with",
                "Agree with your therapist which urge to start with: one that is usually "
                "moderate rather than overwhelming.",
            ),
            _step(
                "Practise urge surfing in session",
                "Go through a guided urge-surfing exercise together.",
            ),
            _step(
                "Surf an urge for 10 minutes",
                "Set a timer and rate the urge at the start, the middle and the end.",
                _weekly(3),
            ),
            _step(
                "Review the ratings",
                "Look at how the urges changed over the 10 minutes and what helped.",
                _weekly(),
            ),
        ],
    ),
    _template(
        template_id="coping-skills-graded-exposure",
        category="coping_skills",
        name="Fear ladder, with the therapist",
        # "Climb a fear ladder" reads better, but the SMART validator lacks "climb" and counts
        # "fear" as a feeling word, failing the title.
        title="Practise the fear-ladder steps planned with the therapist",
        description="With your therapist, build a ladder of feared situations from easiest to "
        "hardest. Practise only the step agreed in session, stay in the situation until the "
        "anxiety starts to ease, and move up a rung only when the current one feels "
        "manageable and your therapist agrees.",
        measure=_count("Fear-ladder steps completed", "ladder steps", 0, 4),
        relevance="Avoiding feared situations keeps anxiety going; facing them gradually and "
        "safely shows you that you can cope, and the fear shrinks.",
        gas_levels=_levels(
            "No ladder steps practised",
            "1-3 ladder steps completed",
            "4 ladder steps completed",
            "5 ladder steps completed",
            "6 or more ladder steps completed, at the pace agreed in session",
        ),
        steps=[
            _step(
                "Build the fear ladder in session",
                "List 8 to 10 feared situations and rate each from 0 to 100 for how anxious it "
                "would make you.",
            ),
            _step(
                "Agree the first step and a plan",
                "Choose a situation rated around 30 to 40, and agree where, when and for how "
                "long to practise it.",
            ),
            _step(
                "Practise the agreed step",
                "Stay until the anxiety eases to about half its peak, without the safety "
                "behaviours you agreed to drop. Rate anxiety at the start, peak and end.",
                _weekly(3),
            ),
            _step(
                "Review before moving up",
                "Go over the ratings in session and decide together whether to repeat the step "
                "or move to the next one.",
                _weekly(),
            ),
        ],
    ),
)

# --- Healthier behaviours ----------------------------------------------------------------------

_HEALTHY_BEHAVIORS = (
    _template(
        template_id="healthy-behaviors-activity-scheduling",
        category="healthy_behaviors",
        name="Planned activities (behavioural activation)",
        title="Schedule and complete five small planned activities a week",
        description="Each week, put small activities that bring enjoyment or a sense of "
        "achievement (a short walk, a call, cooking a meal, a small chore) in the diary at set "
        "times, then do them as planned whatever your mood, and rate enjoyment and achievement "
        "from 0 to 10.",
        measure=_count("Planned activities completed", "activities per week", 1, 5),
        relevance="When mood is low, waiting until you feel like doing things keeps you stuck; "
        "doing small planned activities first tends to lift mood and energy afterwards.",
        gas_levels=_levels(
            "0-1 planned activities completed in the week",
            "2-4 planned activities completed in the week",
            "5 planned activities completed in the week",
            "6 planned activities completed in the week",
            "7 or more planned activities completed in the week, including one that had been "
            "put off",
        ),
        steps=[
            _step(
                "Record a typical week",
                "For a few days, note what you do each hour and rate your mood from 0 to 10, to "
                "see how activity and mood are linked.",
            ),
            _step(
                "List activities that matter",
                "Include enjoyable ones and ones that give a sense of achievement or fit what is "
                "important to you.",
            ),
            _step(
                "Schedule next week's activities",
                "Give each activity a day and time in the diary; start small.",
                _weekly(),
            ),
            _step(
                "Do the planned activity",
                "Do it as planned even if you don't feel like it, then rate enjoyment and "
                "achievement from 0 to 10.",
                _weekly(5),
            ),
        ],
    ),
    _template(
        template_id="healthy-behaviors-regular-walks",
        category="healthy_behaviors",
        name="Regular walks",
        title="Walk for 20 minutes on five days a week",
        description="Take a brisk walk of at least 20 minutes, at a pace where you can talk but "
        "not sing, on five days a week at a time that fits your routine. Check with your doctor "
        "first if a health condition limits exercise.",
        measure={
            "name": "Minutes walked",
            "unit": "minutes per week",
            "kind": "numeric",
            "direction": "increase",
            "baseline": 30,
            "target": 100,
        },
        relevance="Regular physical activity reliably helps mood, stress and sleep, and a walk is "
        "easy to fit into an ordinary day.",
        gas_levels=_levels(
            "30 minutes of walking or less in the week",
            "31-89 minutes of walking in the week",
            "90-110 minutes of walking in the week (about 20 minutes on five days)",
            "111-150 minutes of walking in the week",
            "More than 150 minutes of walking in the week",
        ),
        steps=[
            _step(
                "Plan a route and five times",
                "Choose a safe route and five slots in the week, for example after lunch on "
                "weekdays.",
            ),
            _step(
                "Get shoes and a coat ready",
                "Keep comfortable shoes and a waterproof by the door, so there is less in the "
                "way of going.",
            ),
            _step(
                "Walk for 20 minutes",
                "If 20 minutes is too much at first, start shorter and build up. Log the minutes.",
                _weekly(5),
            ),
            _step(
                "Add up the week's minutes",
                "Total the minutes walked and note what helped or got in the way.",
                _weekly(),
            ),
        ],
    ),
    _template(
        template_id="healthy-behaviors-regular-meals",
        category="healthy_behaviors",
        name="Regular meals",
        title="Eat three regular meals a day at planned times",
        description="Eat breakfast, lunch and an evening meal at roughly the same times each day, "
        "no more than 4 to 5 hours apart, with simple meals planned ahead for busy days. If "
        "eating is itself a focus of therapy, agree the plan with your therapist or dietitian "
        "first.",
        measure=_count("Days with three meals", "days per week", 2, 6),
        relevance="Regular meals keep energy steady, which makes mood, concentration and "
        "irritability easier to manage through the day.",
        gas_levels=_levels(
            "0-2 days in the week with three meals",
            "3-5 days in the week with three meals",
            "6 days in the week with three meals",
            "7 days in the week with three meals",
            "7 days in the week with three meals, nearly all at the planned times",
        ),
        steps=[
            _step(
                "Set rough meal times",
                "Choose times for three meals that fit your day, no more than 4 to 5 hours apart.",
            ),
            _step(
                "Plan simple meals for the week",
                "Keep a few quick options at home for busy or low days.",
                _weekly(),
            ),
            _step(
                "Eat at the planned times",
                "Tick off each meal; when one is missed, note what got in the way.",
                _daily(3),
            ),
            _step(
                "Review what got in the way",
                "Once a week, look at missed meals and plan around the most common obstacle.",
                _weekly(),
            ),
        ],
    ),
)

# --- Expressing emotions and needs -------------------------------------------------------------

_COMMUNICATION = (
    _template(
        template_id="communication-i-statements",
        category="communication",
        name='Assertive "I" statements',
        title='Use "I" statements to express feelings and needs',
        description="In a calm moment, say how you feel and what you would like using the "
        'pattern "I feel ... when ... and I would like ...", rather than blaming ("you always '
        '..."). Start with low-stakes conversations with people you trust.',
        measure=_count('Conversations using an "I" statement', "conversations per week", 0, 3),
        relevance="Saying clearly what you feel and need, without blaming, makes it more likely "
        "you are heard and less likely the conversation turns into an argument.",
        gas_levels=_levels(
            'No "I" statements used in the week',
            '1-2 conversations in the week with an "I" statement',
            '3 conversations in the week with an "I" statement',
            '4-5 conversations in the week with an "I" statement',
            '6 or more conversations in the week with an "I" statement, including one that '
            "felt hard",
        ),
        steps=[
            _step(
                "Learn the pattern in session",
                'Go over "I feel ... when ... and I would like ..." and write two examples from '
                "recent situations.",
            ),
            _step(
                "Rehearse one conversation",
                "Role-play it with your therapist and try a few ways of saying it.",
            ),
            _step(
                'Use an "I" statement in a low-stakes conversation',
                "Choose a calm moment and a person you trust.",
                _weekly(3),
            ),
            _step(
                "Note how it went",
                "Write down what you said, how the other person responded and how you felt.",
                _weekly(),
            ),
        ],
    ),
    _template(
        template_id="communication-saying-no",
        category="communication",
        name="Saying no kindly",
        title="Say no briefly and kindly to requests that would overstretch",
        description="When asked to take on something you don't have the time, energy or wish "
        'for, decline briefly and kindly without over-explaining ("Thanks for asking, but I '
        "can't this time\"), or offer an alternative you are happy with. Start with requests "
        "where less is at stake.",
        measure=_count("Unwanted requests declined or renegotiated", "requests per week", 0, 2),
        relevance="Agreeing to everything can leave you exhausted and resentful; a clear, kind "
        "no protects your time and energy and keeps relationships honest.",
        gas_levels=_levels(
            "No unwanted requests declined; agreed to everything",
            "1 unwanted request declined or renegotiated in the week",
            "2 unwanted requests declined or renegotiated in the week",
            "3 unwanted requests declined or renegotiated in the week",
            "4 or more unwanted requests declined or renegotiated in the week, including one "
            "from someone it feels hard to say no to",
        ),
        steps=[
            _step(
                "Notice when yes means no",
                "For a week, jot down requests you agreed to but did not want to take on.",
            ),
            _step(
                "Prepare a few phrases",
                "Write two or three short ways to say no or offer an alternative, and practise "
                "them aloud.",
            ),
            _step(
                "Say no to a lower-stakes request",
                "Keep it short and kind; no long explanation is needed.",
                _weekly(2),
            ),
            _step(
                "Review in session",
                "Talk through how it went and what felt hard, and choose the next situation.",
                _weekly(),
            ),
        ],
    ),
    _template(
        template_id="communication-share-a-feeling",
        category="communication",
        name="Share a feeling",
        title="Share a feeling with a trusted person on four days a week",
        description="Tell someone you trust how you are feeling, in a sentence or two, in "
        'person, by phone or by message, for example "I\'ve been feeling low today" or "I was '
        'really pleased about my walk". Pleasant feelings count too.',
        measure=_count("Days a feeling was shared with someone", "days per week", 1, 4),
        relevance="Putting feelings into words with someone you trust eases their intensity, "
        "helps others understand and support you, and builds closeness.",
        gas_levels=_levels(
            "0-1 days in the week with a feeling shared",
            "2-3 days in the week with a feeling shared",
            "4 days in the week with a feeling shared",
            "5-6 days in the week with a feeling shared",
            "A feeling shared every day of the week",
        ),
        steps=[
            _step(
                "Choose one or two trusted people",
                "People who usually listen without judging or rushing to fix things.",
            ),
            _step(
                "Practise naming feelings in session",
                "Use a list of feeling words to find words that fit, pleasant and unpleasant.",
            ),
            _step(
                "Share one feeling",
                "A sentence or two is enough, in person, by phone or by message.",
                _weekly(4),
            ),
            _step(
                "Note how it felt",
                "Jot down how the other person responded and how you felt afterwards.",
                _weekly(),
            ),
        ],
    ),
)

# --- Facing old wounds: stabilisation and pacing only ------------------------------------------

_TRAUMA_RECOVERY = (
    _template(
        template_id="trauma-recovery-grounding-practice",
        category="trauma_recovery",
        name="Daily grounding practice",
        title="Practise a grounding skill every day",
        description="Each day, spend a few minutes on a grounding skill agreed with your "
        "therapist, such as 5-4-3-2-1 (name 5 things you can see, 4 you can touch, 3 you can "
        "hear, 2 you can smell, 1 you can taste), while calm, so it is ready when memories or "
        "strong feelings intrude. This goal is about feeling steadier in the present, not about "
        "going over what happened.",
        measure=_count("Days with a grounding practice", "days per week", 1, 5),
        relevance="Grounding brings your attention back to the here and now, which makes "
        "intrusive memories and strong feelings easier to ride out safely.",
        gas_levels=_levels(
            "0-1 days in the week with a grounding practice",
            "2-4 days in the week with a grounding practice",
            "5 days in the week with a grounding practice",
            "6-7 days in the week with a grounding practice",
            "6-7 days in the week with a grounding practice, and grounding used at least once "
            "to settle when a memory or strong feeling intruded",
        ),
        steps=[
            _step(
                "Learn two grounding skills in session",
                "Try a few with your therapist (5-4-3-2-1, saying today's date and where you "
                "are, holding something cold) and keep the two that work best.",
            ),
            _step(
                "Practise grounding while calm",
                "A few minutes a day; rate how present you feel from 0 to 10 before and after.",
                _daily(),
            ),
            _step(
                "Carry a grounding reminder",
                "A small object, a scent or a card with the steps, to hand when needed.",
            ),
            _step(
                "Review in session",
                "Share what worked, and agree with your therapist when to use grounding outside "
                "practice.",
                _weekly(),
            ),
        ],
    ),
    _template(
        template_id="trauma-recovery-soothing-plan",
        category="trauma_recovery",
        name="Written soothing and safety plan",
        title="Write a personal soothing and safety plan with the therapist",
        description="Together with your therapist, write a one-page plan: the early signs of "
        "feeling overwhelmed, things that soothe each of the senses, places that feel safe, "
        "people to contact, and crisis numbers. Keep a copy on your phone and one at home.",
        measure={
            "name": "Soothing and safety plan written and kept to hand",
            "unit": "plan in place (yes or no)",
            "kind": "boolean",
            "direction": "increase",
            "baseline": 0,
            "target": 1,
        },
        relevance="A plan written in advance means you don't have to think clearly in the "
        "hardest moments, and it makes it safer to work through difficult things at your own "
        "pace.",
        gas_levels=_levels(
            "No plan started",
            "Plan started, but sections are missing or it is not kept to hand",
            "Complete plan agreed with the therapist, with a copy on the phone and one at home",
            "Complete plan, used at least once when feeling overwhelmed",
            "Complete plan, used when needed, and updated in session after using it",
        ),
        steps=[
            _step(
                "List early signs of overwhelm",
                "The body signs, thoughts and behaviours that tell you distress is rising.",
            ),
            _step(
                "List soothing things for each sense",
                "Something to see, hear, smell, taste and touch that helps you settle.",
            ),
            _step(
                "Add people and crisis contacts",
                "Two or three people you can reach, your therapist's contact details, and "
                "crisis line numbers.",
            ),
            _step(
                "Keep copies to hand",
                "Save a photo on your phone and keep a copy somewhere easy to find at home.",
            ),
            _step(
                "Review the plan in session",
                "Check that it works and update it after you have used it.",
            ),
        ],
    ),
    _template(
        template_id="trauma-recovery-settling-after-sessions",
        category="trauma_recovery",
        name="Settling routine after sessions",
        # "Follow a settling routine ..." reads better, but "follow" is missing from the SMART
        # validator's action words.
        title="Plan and use a settling routine after each therapy session",
        description="Agree with your therapist a 30 to 60 minute routine for after sessions, for "
        "example a short walk, a warm drink, grounding or music, and keep that time free of "
        "demanding tasks. It keeps the work at a pace you can manage.",
        measure=_count(
            "Sessions followed by the settling routine", "sessions out of the last 4", 0, 3
        ),
        relevance="Working on past hurts can stir up strong feelings for hours afterwards; a "
        "planned way to settle keeps them manageable and makes it safer to keep going at your "
        "own pace.",
        gas_levels=_levels(
            "Routine used after none of the last 4 sessions",
            "Routine used after 1-2 of the last 4 sessions",
            "Routine used after 3 of the last 4 sessions",
            "Routine used after all of the last 4 sessions",
            "Routine used after all of the last 4 sessions, with distress back to its usual "
            "level within two hours each time",
        ),
        steps=[
            _step(
                "Plan the routine in session",
                "Choose calming activities and how long they take; include grounding if it helps.",
            ),
            _step(
                "Keep time free after sessions",
                "Where possible, avoid booking work, difficult conversations or long drives "
                "straight afterwards.",
            ),
            _step(
                "Use the settling routine",
                "Straight after each session; rate distress from 0 to 10 before and after.",
                _weekly(),
            ),
            _step(
                "Tell your therapist if it is too much",
                "If distress stays high for more than a day after a session, say so, so the pace "
                "can be adjusted.",
            ),
        ],
    ),
)

# --- Self-compassion ---------------------------------------------------------------------------

_SELF_COMPASSION = (
    _template(
        template_id="self-compassion-break",
        category="self_compassion",
        name="Self-compassion break",
        title="Take a self-compassion break when self-criticism shows up",
        description="When you notice harsh self-talk or a painful moment, pause for about a "
        'minute and go through three steps: acknowledge that this is hard ("this is a moment of '
        'struggle"), remember that everyone struggles sometimes, and offer yourself a kind '
        "phrase, perhaps with a hand on your chest.",
        measure=_count("Self-compassion breaks taken", "breaks per week", 0, 4),
        relevance="Harsh self-criticism keeps low mood and shame going; meeting it with kindness "
        "makes it easier to learn from setbacks and try again.",
        gas_levels=_levels(
            "No self-compassion breaks taken in the week",
            "1-3 self-compassion breaks taken in the week",
            "4 self-compassion breaks taken in the week",
            "5-6 self-compassion breaks taken in the week",
            "7 or more self-compassion breaks taken in the week",
        ),
        steps=[
            _step(
                "Learn the three steps in session",
                "Mindfulness, common humanity and kindness, practised once together.",
            ),
            _step(
                "Choose a kind phrase of your own",
                'Words that feel genuine, for example "May I be kind to myself right now".',
            ),
            _step(
                "Take a self-compassion break",
                "When you notice self-criticism; rate how harsh it feels from 0 to 10 before and "
                "after.",
                _weekly(4),
            ),
            _step(
                "Share what you noticed in session",
                "Which situations set off self-criticism, and what changed after the break.",
                _weekly(),
            ),
        ],
    ),
    _template(
        template_id="self-compassion-friend-perspective",
        category="self_compassion",
        name="What would I tell a friend?",
        title="Write a kinder reply to a self-critical thought, as if to a friend",
        description="When a self-critical thought stands out, write it down, then write what "
        "you would say to a good friend in the same situation, and read that reply back to "
        "yourself slowly. A few lines in a notebook or notes app are enough.",
        measure=_count("Self-critical thoughts answered in writing", "thoughts per week", 0, 3),
        relevance="Most people are far kinder to a friend than to themselves; practising that "
        "kinder voice on paper makes it easier to find in the moment.",
        gas_levels=_levels(
            "No kinder replies written in the week",
            "1-2 kinder replies written in the week",
            "3 kinder replies written in the week",
            "4-5 kinder replies written in the week",
            "6 or more kinder replies written in the week, and a kinder reply sometimes coming "
            "to mind without writing it",
        ),
        steps=[
            _step(
                "Catch the self-critical thought",
                "Write down its exact words as soon as you can.",
            ),
            _step(
                "Write the friend's reply",
                "What would you say to a good friend who thought this about themselves?",
                _weekly(3),
            ),
            _step(
                "Read the reply back slowly",
                "Notice any change in how you feel, even a small one.",
                _weekly(3),
            ),
            _step(
                "Bring two examples to session",
                "Talk through which replies felt believable and which did not yet.",
                _weekly(),
            ),
        ],
    ),
    _template(
        template_id="self-compassion-weekly-letter",
        category="self_compassion",
        name="Weekly compassionate letter",
        title="Write a short self-compassionate letter once a week",
        description="Once a week, write for 10 to 15 minutes about something you are "
        "struggling with or criticise yourself for, from the point of view of a wise, caring "
        "friend: understanding, warm, and encouraging rather than judging.",
        measure=_rating("Kindness towards myself after setbacks this week", 3, 6),
        relevance="Writing from a caring point of view builds a kinder inner voice over time, "
        "which supports mood and resilience when things go wrong.",
        gas_levels=_levels(
            "Weekly self-kindness rating of 3 or less out of 10",
            "Weekly self-kindness rating of 4 or 5 out of 10",
            "Weekly self-kindness rating of 6 out of 10",
            "Weekly self-kindness rating of 7 out of 10",
            "Weekly self-kindness rating of 8 or more out of 10",
        ),
        steps=[
            _step(
                "Choose a regular time and place",
                "Somewhere quiet, with 15 minutes free, on the same day each week.",
            ),
            _step(
                "Write the letter",
                "Start with what happened and how it felt, then answer as a caring friend would.",
                _weekly(),
            ),
            _step(
                "Rate self-kindness for the week",
                "From 0 to 10: how kindly did you treat yourself after setbacks this week?",
                _weekly(),
            ),
            _step(
                "Share a letter in session",
                "Read one aloud with your therapist if you are comfortable doing so.",
            ),
        ],
    ),
)

# --- Relationships -----------------------------------------------------------------------------

_RELATIONSHIPS = (
    _template(
        template_id="relationships-reach-out",
        category="relationships",
        name="Reach out twice a week",
        title="Reach out to a friend or family member twice a week",
        description="Send a message, call or meet someone you care about, perhaps someone you "
        "have lost touch with or would like to be closer to. A short message counts: the aim is "
        "regular contact, not long conversations.",
        measure=_count("Contacts started with friends or family", "contacts per week", 0, 2),
        relevance="Regular contact keeps relationships alive and is one of the strongest "
        "protections against low mood and loneliness.",
        gas_levels=_levels(
            "No contacts started in the week",
            "1 contact started in the week",
            "2 contacts started in the week",
            "3-4 contacts started in the week",
            "5 or more contacts started in the week, including one meeting in person",
        ),
        steps=[
            _step(
                "List people to reconnect with",
                "Three to five people you would like more contact with.",
            ),
            _step(
                "Plan who to contact this week",
                "Pick two people and a rough time for each.",
                _weekly(),
            ),
            _step(
                "Send a message or call",
                "Keep it short and easy, for example asking how they are.",
                _weekly(2),
            ),
            _step(
                "Suggest meeting up",
                "Once contact feels easier, suggest a coffee or a walk with one person.",
            ),
        ],
    ),
    _template(
        template_id="relationships-phone-free-time",
        category="relationships",
        name="Phone-free time together",
        title="Spend 20 phone-free minutes with a partner or family member three times a week",
        description="Set aside 20 minutes with phones out of sight to talk, eat, walk or play "
        "together with full attention. Agree the times together in advance so both of you can "
        "protect them.",
        measure=_count("Phone-free times together", "times per week", 1, 3),
        relevance="Regular, undistracted time together builds closeness and makes it easier to "
        "talk about harder things when they come up.",
        gas_levels=_levels(
            "0-1 phone-free times together in the week",
            "2 phone-free times together in the week",
            "3 phone-free times together in the week",
            "4-5 phone-free times together in the week",
            "6 or more phone-free times together in the week",
        ),
        steps=[
            _step(
                "Agree times together",
                "Choose three slots in the week that suit you both.",
            ),
            _step(
                "Pick a place for phones",
                "A drawer or another room, so they are out of sight.",
            ),
            _step(
                "Spend 20 phone-free minutes together",
                "Talk, eat, walk or play; give each other full attention.",
                _weekly(3),
            ),
            _step(
                "Check in on how it went",
                "Once a week, ask each other what you enjoyed and what to change.",
                _weekly(),
            ),
        ],
    ),
    _template(
        template_id="relationships-time-out-and-return",
        category="relationships",
        name="Time-out and return",
        title="Take a time-out when arguments heat up, and come back to talk",
        description='When a disagreement gets heated, say an agreed phrase such as "I need 20 '
        "minutes, then let's come back to this\", calm down with paced breathing or a walk, then "
        "return and carry on within an hour. Agree the plan together at a calm time. This is for "
        "everyday disagreements; if you ever feel unsafe at home, tell your therapist.",
        measure=_rating("How calmly disagreements were handled this week", 3, 6),
        relevance="Arguments that escalate rarely solve anything and can hurt both people; a "
        "planned pause lets everyone calm down so the issue can actually be talked through.",
        gas_levels=_levels(
            "Weekly rating of 3 or less: arguments escalate without a time-out",
            "Weekly rating of 4 or 5: time-outs taken sometimes, but the talk is not picked up "
            "again",
            "Weekly rating of 6: time-outs taken in most heated moments, and the talk resumed "
            "within an hour",
            "Weekly rating of 7: time-outs taken whenever needed, and the talk always resumed",
            "Weekly rating of 8 or more: most disagreements talked through calmly without "
            "needing a time-out",
        ),
        steps=[
            _step(
                "Agree the time-out plan at a calm time",
                "Together, choose the phrase, how long the break lasts and when you will come "
                "back.",
            ),
            _step(
                "Learn your early signs of heating up",
                "For example a raised voice, a clenched jaw or a racing heart.",
            ),
            _step(
                "Calm down during the time-out",
                "Use paced breathing or a walk rather than going over the argument in your head.",
            ),
            _step(
                "Come back and finish the conversation",
                'Start with an "I" statement about what matters to you.',
            ),
            _step(
                "Rate the week",
                "From 0 to 10: how calmly were disagreements handled this week?",
                _weekly(),
            ),
        ],
    ),
)

# --- Sleep schedule ----------------------------------------------------------------------------

_SLEEP = (
    _template(
        template_id="sleep-consistent-wake-time",
        category="sleep",
        name="Consistent wake time",
        title="Wake up at the same time every day, weekends included",
        description="Choose one wake-up time for every day of the week and get out of bed "
        "within 30 minutes of it, even after a poor night or at the weekend. Get some daylight "
        "soon after waking, and avoid lie-ins and daytime naps longer than 20 to 30 minutes.",
        measure=_count("Days up within 30 minutes of the set wake time", "days per week", 2, 6),
        relevance="A fixed wake time sets the body clock, so you feel sleepy at a regular time "
        "at night, and sleep usually improves within a few weeks.",
        gas_levels=_levels(
            "0-2 days in the week up within 30 minutes of the set time",
            "3-5 days in the week up within 30 minutes of the set time",
            "6 days in the week up within 30 minutes of the set time",
            "7 days in the week up within 30 minutes of the set time",
            "7 days a week up within 30 minutes of the set time, for at least 3 weeks in a row",
        ),
        steps=[
            _step(
                "Choose the wake-up time",
                "One that works on every day of the week, weekends included.",
            ),
            _step(
                "Put the alarm out of reach of the bed",
                "So that switching it off means getting up.",
            ),
            _step(
                "Get up at the set time",
                "Out of bed within 30 minutes of the alarm; open the curtains or step outside "
                "for daylight.",
                _daily(),
            ),
            _step(
                "Keep a simple sleep diary",
                "Each morning note bedtime, wake time and how rested you feel, to review in "
                "session.",
                _daily(),
            ),
        ],
    ),
    _template(
        template_id="sleep-stimulus-control",
        category="sleep",
        name="Bed is for sleep",
        title="Leave the bed when unable to sleep, and go back when sleepy",
        description="Go to bed only when sleepy. If you can't fall asleep, or back to sleep, "
        "after about 20 minutes (estimate rather than watching the clock), get up, do something "
        "quiet in dim light in another room, and go back to bed when sleepy. Keep the bed for "
        "sleep and sex, not screens or worrying. You may feel sleepier by day at first, so take "
        "care when driving.",
        measure=_count("Nights the bed-for-sleep rules were kept", "nights per week", 1, 5),
        relevance="Lying awake in bed teaches the brain to link bed with being awake and "
        "frustrated; these steps rebuild the link between bed and sleep.",
        gas_levels=_levels(
            "0-1 nights in the week with the rules kept",
            "2-4 nights in the week with the rules kept",
            "5 nights in the week with the rules kept",
            "6 nights in the week with the rules kept",
            "7 nights in the week with the rules kept",
        ),
        steps=[
            _step(
                "Prepare a quiet activity in another room",
                "A dull book, a puzzle or calm music, with a dim light and a blanket ready.",
            ),
            _step(
                "Move screens and work out of the bed",
                "Keep the bed for sleep, so lying in it becomes a cue for sleep.",
            ),
            _step(
                "Keep the bed-for-sleep rules tonight",
                "In bed only when sleepy; up after about 20 minutes awake; back when sleepy.",
                _daily(),
            ),
            _step(
                "Review the sleep diary in session",
                "Look at how long it takes to fall asleep and how often you got up.",
                _weekly(),
            ),
        ],
    ),
    _template(
        template_id="sleep-wind-down-routine",
        category="sleep",
        name="Screen-free wind-down",
        title="Turn off screens 30 minutes before bed and wind down",
        description="Half an hour before your planned bedtime, put the phone, laptop and TV "
        "away (charge the phone outside the bedroom if you can) and do something calm in dim "
        "light, such as reading, a warm shower, gentle stretching or paced breathing.",
        measure=_count("Nights with screens off 30 minutes before bed", "nights per week", 1, 5),
        relevance="A regular, calm wind-down tells your body that sleep is coming, and a "
        "screen-free half hour cuts stimulation and late-night scrolling.",
        gas_levels=_levels(
            "0-1 nights in the week with screens off 30 minutes before bed",
            "2-4 nights in the week with screens off 30 minutes before bed",
            "5 nights in the week with screens off 30 minutes before bed",
            "6 nights in the week with screens off 30 minutes before bed",
            "7 nights in the week with screens off 30 minutes before bed, and the phone "
            "charging outside the bedroom",
        ),
        steps=[
            _step(
                "Choose a wind-down time",
                "30 minutes before the bedtime that fits your wake-up time.",
            ),
            _step(
                "Set up a charging spot outside the bedroom",
                "Use an ordinary alarm clock if the phone was your alarm.",
            ),
            _step(
                "Set a screens-off reminder",
                "A daily alarm at the wind-down time.",
            ),
            _step(
                "Wind down without screens",
                "Reading, a warm shower, gentle stretching or paced breathing, in dim light.",
                _daily(),
            ),
        ],
    ),
)

# --- Anything else: a goal of the client's own ------------------------------------------------

_OTHER = (
    _template(
        template_id="other-planned-valued-activity",
        category="other",
        name="Planned time for what matters",
        title="Plan and do one activity you value three times a week",
        description="At the start of each week, pick three times for an activity that matters to "
        "you and is not a chore: a hobby, time outdoors, learning something, helping someone. "
        "Put each in the calendar like an appointment, do it for at least 30 minutes, and note "
        "afterwards how it went.",
        measure=_count("Planned activities done", "activities per week", 0, 3),
        relevance="When life narrows to what has to be done, mood and motivation drop; planning "
        "time for what you value, rather than waiting to feel like it, brings both back.",
        gas_levels=_levels(
            "No planned activity done in the week",
            "1-2 planned activities done in the week",
            "3 planned activities done in the week, each for at least 30 minutes",
            "4 planned activities done in the week",
            "5 or more planned activities done in the week",
        ),
        steps=[
            _step(
                "List activities you value",
                "Ten things, big or small, that you enjoy or that matter to you.",
            ),
            _step(
                "Put three in next week's calendar",
                "A day, a time and a place for each, like an appointment.",
                _weekly(),
            ),
            _step(
                "Do the planned activity",
                "At least 30 minutes; afterwards rate from 0 to 10 how much it meant to you.",
                _weekly(3),
            ),
            _step(
                "Bring the week's ratings to session",
                "Look at which activities lifted your mood the most.",
                _weekly(),
            ),
        ],
    ),
)

TEMPLATES: tuple[GoalTemplate, ...] = (
    *_EMOTIONAL_AWARENESS,
    *_COPING_SKILLS,
    *_HEALTHY_BEHAVIORS,
    *_COMMUNICATION,
    *_TRAUMA_RECOVERY,
    *_SELF_COMPASSION,
    *_RELATIONSHIPS,
    *_SLEEP,
    *_OTHER,
)


def templates_page(
    category: str | None, *, after: str | None, limit: int
) -> tuple[list[GoalTemplate], str | None]:
    """Templates by id (a keyset, as every list: any id is a place to continue from), `limit`
    at a time after `after`, and the cursor of the next page (the last one's id) if any."""
    chosen = [
        t
        for t in _BY_ID
        if (category is None or t.category == category) and (after is None or t.id > after)
    ]
    return split_page(chosen[: limit + 1], limit, lambda template: template.id)


_BY_ID = sorted(TEMPLATES, key=lambda template: template.id)
