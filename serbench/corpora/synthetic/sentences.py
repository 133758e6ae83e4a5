"""Emotion-conditioned sentence banks, with deliberate overlap.

Improvised turns draw from the bank of the speaker's emotion, but a fixed share of turns in
every class draws from :data:`NEUTRAL_CONTENT` (plain, emotion-free content), and the
``happy`` and ``excited`` banks share sentences, as do ``angry`` and ``frustrated``: words
help without deciding. Scripted dialogues read fixed lines whatever the emotion (as in
IEMOCAP's scripts), so there the text carries even less.
"""

from __future__ import annotations

NEUTRAL_CONTENT: tuple[str, ...] = (
    "I went to the office this morning.",
    "The meeting is on Thursday at ten.",
    "She said the train leaves from platform four.",
    "We need to fill in the form before Friday.",
    "The car is parked outside the building.",
    "I read the letter they sent yesterday.",
    "He called about the tickets for next week.",
    "The shop closes at six in the evening.",
    "They moved the desk into the other room.",
    "My sister lives two streets away from here.",
    "The flight was moved to the afternoon.",
    "I put the keys on the kitchen table.",
    "We talked about it on the phone last night.",
    "The results came back this afternoon.",
    "You have to sign here and here.",
    "It is the third time this month.",
    "The bank sent me another statement.",
    "I will be there at about seven.",
    "The package arrived on Monday.",
    "They want an answer by the end of the day.",
    "So that is what the manager told me.",
    "I have been thinking about what you said.",
    "We could take the bus instead.",
    "The house is at the end of the road.",
    "He works at the hospital now.",
    "I saw the email this morning.",
)

BY_EMOTION: dict[str, tuple[str, ...]] = {
    "neutral": (
        "Okay, let me check the schedule.",
        "I think the line is over there.",
        "Can you tell me where the forms are?",
        "That sounds fine to me.",
        "I suppose we can do that tomorrow.",
        "Let me write down your number.",
        "Right, and then what happened?",
        "I am not sure, I will have to ask.",
        "We can talk about it later.",
        "Yes, I understand.",
        "Could you repeat the last part?",
        "I will take a look at it.",
    ),
    "angry": (
        "This is completely unacceptable!",
        "Do not tell me to calm down!",
        "You lied to me, and you know it.",
        "I have had enough of this nonsense!",
        "Get out of my way right now!",
        "How dare you say that to me?",
        "I am sick and tired of your excuses!",
        "You never listen to a single word I say!",
        "Who do you think you are?",
        "I told you a hundred times already!",
        "Stop it, just stop it!",
        "Why would you do something so stupid?",
    ),
    "frustrated": (
        "I have been waiting here for two hours.",
        "Why does nothing ever work around here?",
        "I told you a hundred times already!",
        "This is the third form they have given me.",
        "I just do not understand why this is so hard.",
        "You keep saying that, but nothing changes.",
        "I cannot keep doing this every single day.",
        "Nobody here seems to know anything.",
        "It is always the same story with you.",
        "Why would you do something so stupid?",
        "I give up, I really do.",
        "Can you please just give me a straight answer?",
    ),
    "sad": (
        "I miss him so much.",
        "I do not know what I am going to do now.",
        "It was never supposed to end like this.",
        "Nobody even called to ask how I was.",
        "I keep thinking about the last time we spoke.",
        "Everything feels so empty without her.",
        "I really thought it would work out this time.",
        "I am just so tired of being alone.",
        "He is not coming back, is he?",
        "I wish I could have said goodbye.",
        "I do not think I can do this anymore.",
        "It just hurts, that is all.",
    ),
    "happy": (
        "That is wonderful news, I am so glad.",
        "I had such a lovely time with you.",
        "Thank you, that is really kind of you.",
        "It feels good to be home again.",
        "We finally got the house we wanted!",
        "You always know how to make me smile.",
        "I am so proud of you.",
        "What a beautiful day it is.",
        "I cannot believe it, this is amazing!",
        "Everything turned out just fine.",
        "I love spending time with you.",
        "We should do this more often.",
    ),
    "excited": (
        "I cannot believe it, this is amazing!",
        "We finally got the house we wanted!",
        "Guess what, I got the job!",
        "Oh my god, we are going to Paris!",
        "Come on, let us go right now!",
        "This is the best day of my life!",
        "You will never guess who I just met!",
        "We won, we actually won!",
        "I have to tell everyone about this!",
        "Wait until you see it, it is incredible!",
        "Yes, yes, a thousand times yes!",
        "I can hardly wait for tomorrow!",
    ),
}

#: The share of turns that read emotion-free content whatever the emotion.
NEUTRAL_CONTENT_SHARE = 0.4
