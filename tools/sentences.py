"""The English sentence list the synthetic (espeak-ng) corpus speaks.

Written for this project: :data:`HAND_WRITTEN` lines plus sentences from a small grammar
of our own (templates over word lists below). The grammar over-generates candidates; a
greedy selection then keeps, per length band, the sentences that add the most uncovered
phone pairs (diphones, with diminishing returns for pairs already seen), which makes the
list phonetically balanced: every phone and nearly every common diphone of English occurs
many times, rare ones as often as the language allows. Lengths range from two words to
about thirty, in fixed proportions (:data:`LENGTH_BANDS`).

The list is stored as a text asset (``emoface/data/sentences_en.txt``, read by
:func:`emoface.data.sentences.load_sentences`) so builds do not depend on this generator;
``python tools/sentences.py`` rewrites it (the output is deterministic). Pronunciations for the balance come from the CMU dictionary shipped
with pocketsphinx.
"""
from __future__ import annotations

import heapq
import re
import sys
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emoface.data.sentences import ASSET  # noqa: E402

SEED = 20240611
CANDIDATES = 60000
# (min words, max words, share of the generated sentences)
LENGTH_BANDS = ((2, 5, 0.18), (6, 10, 0.34), (11, 16, 0.30), (17, 34, 0.18))
GENERATED = 4800

HAND_WRITTEN = """\
I can't believe you did that!
Please don't leave me here alone.
We won! We actually won the final!
Get out of my kitchen right now.
Oh no, the bridge is closed again.
That smell is making me feel sick.
Wow, look at the size of that wave!
I told you a hundred times to lock the gate.
Why would anyone eat fish for breakfast?
My grandmother never throws anything away.
The thunder woke everyone in the village.
Could you pass me the salt, please?
It's just another rainy Monday morning.
Nobody noticed when the lights went out.
You promised you would call me back.
Stop shouting, I can hear you perfectly well.
What on earth is that noise in the attic?
He smiled and handed me a warm cup of tea.
The results came back and everything is fine.
I miss the long summer evenings by the lake.
Keep your hands where I can see them.
There's something moving under the floorboards.
That was the best birthday party ever!
Honestly, I expected a little more effort from you.
The old dog sleeps by the fire all day.
She whispered the answer so nobody else could hear.
Are you sure this is the right address?
Turn left at the church and keep going.
They cancelled the concert an hour before it started.
The soup is cold and the bread is stale.
I think we should wait for the others.
Yes! Finally, the package has arrived.
Nobody told me the meeting was moved to Friday.
Listen carefully, because I will only say this once.
My hands are shaking and I don't know why.
What a lovely surprise to see you here!
The cheese in the fridge has turned green.
Why do you always have to be so rude?
Good morning, and welcome aboard flight two seven nine.
The children laughed at the clown's enormous shoes.
I'm sorry, but I really can't help you today.
Look out! The ladder is about to fall.
Everything we built is gone, washed away by the flood.
Can you believe how cheap these tickets were?
The engine made a horrible grinding sound.
Please take a seat, the doctor will see you soon.
I have never been so insulted in my whole life.
A thick fog rolled in from the harbour at dusk.
Who left the front door wide open?
Thank you, this means the world to me.
He didn't even say goodbye.
Hurry up, we're going to miss the train!
The garden looks beautiful after the rain.
Don't touch that, it's still hot.
Is it true that you're moving to Japan?
She laughed so hard that she cried.
That's disgusting, take it away from me.
Quiet, somebody is coming up the stairs.
I waited three hours in the cold for nothing.
We should paint the fence before the winter.
The puppy chewed through my favourite boots.
Do you really think I would lie to you?
The last bus leaves at a quarter to midnight.
Nothing ever happens in this sleepy little town.
Watch how the bubbles float up to the ceiling.
You ruined everything, as usual.
What a waste of a perfectly good afternoon.
How did you manage to fix it so quickly?
I could hear my heart beating in the dark.
Her voice echoed through the empty hall.
The judge frowned and asked for silence.
Bring a jacket, it gets chilly after sunset.
Well, that went better than I expected.
Oh, you shouldn't have, it's gorgeous!
The milk is sour and there's no coffee left.
I don't care what they think about us.
Every Thursday we play chess at the café.
Just breathe slowly and count to ten.
The king ordered his soldiers to open the gates.
It smells like something is burning.
Ugh, there's a hair in my soup.
Shh, the baby is finally asleep.
My brother plays the violin beautifully.
We lost the map somewhere near the border.
Watch your step, the floor is wet.
I'm not angry, I'm just very disappointed.
Please, somebody help me, I'm stuck!
Who ate the last piece of chocolate cake?
The sun rose slowly over the quiet valley.
I knew you'd come back eventually.
The whole thing was a huge misunderstanding.
Could we talk about this later?
Put the books back on the shelf where they belong.
The wind howled through the broken window.
Fantastic, you got the job!
This is the worst coffee I've ever tasted.
I'm afraid the news isn't good.
Don't you dare speak to me like that.
Happy anniversary, my love.
Footsteps, behind us, getting closer.
We'll meet again next spring, I promise.
The toast is burnt and the eggs are raw.
Who would want to live in such a gloomy place?
Seven brave sailors set off at dawn.
Your report is due on Monday at nine.
The museum is closed on public holidays.
You call this a sandwich?
I never want to see that man again.
Everyone stood up and cheered.
The road to the village is blocked by snow.
My feet hurt and I want to go home.
Jump! The boat is leaving without us.
Please leave a message after the tone.
That joke was funny the first time.
A little kindness goes a long way.
The phone rang twice and then stopped.
Somebody has been reading my letters.
You look wonderful in that blue dress.
The machine beeped and the screen went black.
It's all over, there's nothing left to say.
What a magnificent view from the top!
Let's get this over with.
The cat knocked the vase off the table.
I can smell fresh bread from the bakery.
How dare you read my diary!
The parade starts at noon on Main Street.
Whatever you do, don't look down.
My phone battery is always empty.
The river froze solid during the night.
I love the sound of rain on the roof.
You're late again, and this time there's no excuse.
Her smile could light up a whole room.
They found the missing hikers alive and well.
Put your coat on, we're leaving.
Nobody believes a word he says anymore.
This room is filthy, when did you last clean it?
The violin music made everyone feel sad.
Excuse me, is this seat taken?
There's a spider as big as my hand in the bath.
The storm knocked down three old oak trees.
Did you hear that? Something is outside.
My favourite season is autumn.
I'll never forgive you for this.
We're having pizza tonight, aren't we?
Grandpa fell asleep in the middle of the movie.
The fridge is humming louder than usual.
What a terrible thing to say.
Please, just tell me the truth.
The ship disappeared into the mist.
Three cheers for the winning team!
Pack your things, we leave at dawn.
The noise from the street kept us awake all night.
I think I left the oven on.
Is anyone there? Hello?
The teacher wrote the answer on the board.
How could you forget my birthday again?
We planted tomatoes, beans and pumpkins this year.
My coffee is cold and my toast is soggy.
"""

# ------------------------------------------------------------------- word lists
# Each list is written out here; forms are given explicitly, never derived by rule.
NAMES = ("Anna", "Ben", "Clara", "David", "Eva", "Frank", "Grace", "Henry", "Iris", "Jack",
         "Kate", "Leo", "Maya", "Noah", "Olive", "Peter", "Rosa", "Sam", "Tom", "Victor",
         "Wendy", "Zoe", "Martin", "Julia", "George", "Lucy", "Oscar", "Ruth", "Hugo",
         "Nina", "Paul", "Sarah", "Joseph", "Emma", "Isaac", "Judith", "Carl", "Agnes",
         "Vincent", "Fiona", "Theo", "Beth", "Arthur", "Molly", "Edgar", "Sophie", "Ivan",
         "Helen", "Ruby", "Gordon", "Yusuf", "Priya", "Chen", "Kofi", "Ingrid", "Pablo")
PEOPLE = (("the doctor", "the doctors"), ("my neighbor", "my neighbors"),
          ("our teacher", "our teachers"), ("the pilot", "the pilots"),
          ("a young farmer", "two young farmers"), ("the old fisherman", "the old fishermen"),
          ("the baker", "the bakers"), ("my cousin", "my cousins"),
          ("the mayor", "the councillors"), ("a tall stranger", "three strangers"),
          ("the nurse", "the nurses"), ("your sister", "your sisters"),
          ("the postman", "the postmen"), ("a little boy", "the children"),
          ("the chef", "the cooks"), ("the captain", "the sailors"),
          ("the lawyer", "the lawyers"), ("my uncle", "my parents"),
          ("the shopkeeper", "the shopkeepers"), ("a journalist", "the journalists"),
          ("the gardener", "the gardeners"), ("the judge", "the jury"),
          ("the student", "the students"), ("a tourist", "the tourists"),
          ("the engineer", "the engineers"), ("the singer", "the musicians"),
          ("the thief", "the thieves"), ("the queen", "the guards"))
ANIMALS = (("the cat", "the cats"), ("a dog", "the dogs"), ("the horse", "the horses"),
           ("a sheep", "the sheep"), ("the goose", "the geese"), ("a mouse", "the mice"),
           ("the owl", "the owls"), ("a fox", "the foxes"), ("the goat", "the goats"),
           ("a frog", "the frogs"), ("the parrot", "the parrots"), ("a wolf", "the wolves"),
           ("the pony", "the ponies"), ("a rabbit", "the rabbits"), ("the duck", "the ducks"),
           ("a bee", "the bees"), ("the whale", "the whales"), ("a squirrel", "the squirrels"))
THINGS = (("kettle", "kettles"), ("chair", "chairs"), ("box", "boxes"), ("basket", "baskets"),
          ("letter", "letters"), ("key", "keys"), ("lamp", "lamps"), ("bottle", "bottles"),
          ("blanket", "blankets"), ("ladder", "ladders"), ("bicycle", "bicycles"),
          ("umbrella", "umbrellas"), ("guitar", "guitars"), ("map", "maps"), ("cup", "cups"),
          ("jacket", "jackets"), ("suitcase", "suitcases"), ("hammer", "hammers"),
          ("notebook", "notebooks"), ("rope", "ropes"), ("mirror", "mirrors"),
          ("pillow", "pillows"), ("coin", "coins"), ("bucket", "buckets"), ("shoe", "shoes"),
          ("watch", "watches"), ("sandwich", "sandwiches"), ("bench", "benches"),
          ("puzzle", "puzzles"), ("envelope", "envelopes"), ("candle", "candles"),
          ("spoon", "spoons"), ("drum", "drums"), ("wagon", "wagons"), ("tent", "tents"),
          ("violin", "violins"), ("photograph", "photographs"), ("scarf", "scarves"),
          ("pumpkin", "pumpkins"), ("parcel", "parcels"), ("telescope", "telescopes"),
          ("jar", "jars"), ("fork", "forks"), ("thimble", "thimbles"), ("wheel", "wheels"),
          ("brush", "brushes"), ("oven", "ovens"), ("cushion", "cushions"),
          ("vase", "vases"), ("helmet", "helmets"), ("globe", "globes"), ("zipper", "zippers"),
          ("toy", "toys"), ("television", "televisions"), ("oyster", "oysters"),
          ("garage door", "garage doors"), ("treasure chest", "treasure chests"))
FOODS = ("bread", "cheese", "soup", "rice", "honey", "butter", "jam", "coffee", "tea",
         "yogurt", "porridge", "chocolate", "lemonade", "toast", "spinach", "garlic",
         "pepper", "vinegar", "mustard", "juice", "pasta", "salmon", "cabbage", "mushrooms",
         "oranges", "peaches", "grapes", "potatoes", "carrots", "cherries", "onions", "beans")
COLOURS = ("red", "blue", "green", "yellow", "purple", "orange", "brown", "gray", "white",
           "black", "pink", "golden", "silver", "beige")
ADJECTIVES = ("quiet", "bright", "muddy", "smooth", "frozen", "shiny", "huge", "thick",
              "thin", "soft", "sharp", "broken", "empty", "heavy", "tiny", "wooden", "dusty",
              "wet", "dry", "clean", "dirty", "strange", "lovely", "ugly", "cheap", "rusty",
              "crooked", "fragile", "enormous", "velvet", "plastic", "woolen", "leather",
              "ancient", "modern", "narrow", "shallow", "slippery", "hollow", "polished",
              "cozy", "gloomy", "usual", "casual", "loyal", "noisy", "moist", "cheerful",
              "peaceful", "delicious", "bitter", "sweet", "sour", "fresh", "stale", "warm", "chilly", "humid", "crisp")
FEELINGS = ("happy", "sad", "angry", "afraid", "tired", "surprised", "nervous", "proud",
            "lonely", "excited", "bored", "jealous", "furious", "thrilled", "worried",
            "ashamed", "relieved", "disgusted", "calm", "grateful", "confused", "curious")
PLACES = ("in the kitchen", "at the station", "near the river", "behind the shed",
          "on the roof", "under the bridge", "across the valley", "in the garden",
          "at the market", "by the window", "inside the barn", "on the beach",
          "in the cellar", "at the harbor", "beside the fountain", "in the library",
          "on the balcony", "at the bakery", "near the church", "in the forest",
          "under the table", "on the top shelf", "at the airport", "in the hallway",
          "next to the fireplace", "in the attic", "at the zoo", "along the canal",
          "on the mountain", "in the village square", "outside the theater",
          "in the garage", "at the bus stop", "behind the curtain", "in the orchard",
          "on the ferry", "at the hospital", "in the museum", "by the lighthouse")
TIMES = ("this morning", "last night", "on Thursday", "every summer", "before dawn",
         "after lunch", "at half past nine", "yesterday", "on Sunday afternoon",
         "during the storm", "at midnight", "last winter", "in the spring",
         "every other weekend", "two days ago", "at sunrise", "on Monday evening",
         "after the concert", "before breakfast", "last Tuesday", "in the autumn",
         "around noon", "early in the evening", "on her birthday", "after school",
         "late on Friday", "at the weekend", "in July", "in December", "this afternoon")
# (base, past, third person singular)
VERBS_T = (("find", "found", "finds"), ("carry", "carried", "carries"),
           ("paint", "painted", "paints"), ("drop", "dropped", "drops"),
           ("wash", "washed", "washes"), ("fix", "fixed", "fixes"),
           ("measure", "measured", "measures"), ("borrow", "borrowed", "borrows"),
           ("hide", "hid", "hides"), ("pack", "packed", "packs"), ("sell", "sold", "sells"),
           ("throw", "threw", "throws"), ("push", "pushed", "pushes"),
           ("catch", "caught", "catches"), ("choose", "chose", "chooses"),
           ("polish", "polished", "polishes"), ("open", "opened", "opens"),
           ("lose", "lost", "loses"), ("bring", "brought", "brings"),
           ("buy", "bought", "buys"), ("build", "built", "builds"),
           ("steal", "stole", "steals"), ("move", "moved", "moves"),
           ("check", "checked", "checks"), ("fold", "folded", "folds"),
           ("weigh", "weighed", "weighs"), ("shake", "shook", "shakes"),
           ("wrap", "wrapped", "wraps"), ("lift", "lifted", "lifts"),
           ("kick", "kicked", "kicks"), ("bury", "buried", "buries"),
           ("deliver", "delivered", "delivers"), ("examine", "examined", "examines"),
           ("scratch", "scratched", "scratches"), ("rescue", "rescued", "rescues"),
           ("repair", "repaired", "repairs"), ("squeeze", "squeezed", "squeezes"),
           ("borrow", "borrowed", "borrows"), ("smash", "smashed", "smashes"),
           ("treasure", "treasured", "treasures"), ("judge", "judged", "judges"),
           ("thank", "thanked", "thanks"), ("visit", "visited", "visits"))
VERBS_I = (("laugh", "laughed", "laughs"), ("wait", "waited", "waits"),
           ("shiver", "shivered", "shivers"), ("vanish", "vanished", "vanishes"),
           ("smile", "smiled", "smiles"), ("jump", "jumped", "jumps"),
           ("whisper", "whispered", "whispers"), ("sing", "sang", "sings"),
           ("cry", "cried", "cries"), ("sleep", "slept", "sleeps"),
           ("shout", "shouted", "shouts"), ("dance", "danced", "dances"),
           ("hesitate", "hesitated", "hesitates"), ("giggle", "giggled", "giggles"),
           ("yawn", "yawned", "yawns"), ("sneeze", "sneezed", "sneezes"),
           ("complain", "complained", "complains"), ("argue", "argued", "argues"),
           ("panic", "panicked", "panics"), ("travel", "traveled", "travels"),
           ("swim", "swam", "swims"), ("run", "ran", "runs"), ("fall", "fell", "falls"),
           ("wave", "waved", "waves"), ("listen", "listened", "listens"),
           ("breathe", "breathed", "breathes"), ("frown", "frowned", "frowns"),
           ("grumble", "grumbled", "grumbles"), ("vote", "voted", "votes"))
ADVERBS = ("slowly", "quickly", "gently", "loudly", "carefully", "suddenly", "quietly",
           "happily", "angrily", "nervously", "proudly", "patiently", "eagerly",
           "secretly", "badly", "politely", "bravely", "wisely", "sadly", "calmly")
NUMBERS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
           "twelve", "fifteen", "twenty", "thirty", "forty", "sixty", "a hundred",
           "a dozen", "several", "many", "a few")
INTERJECTIONS = ("Oh no", "Wow", "Hey", "Well", "Look", "Listen", "Oh dear", "Goodness",
                 "Ouch", "Hooray", "Alas", "Yikes", "Honestly", "Of course", "Really",
                 "Hmm", "Please", "Sorry", "Okay", "Quick", "Careful", "Gosh")
REASONS = ("the roads were icy", "nobody answered the phone", "the shop had closed early",
           "the weather changed so quickly", "the train was delayed again",
           "everyone else had gone home", "the lights went out", "the rain would not stop",
           "the dog barked all night", "the bill was far too high",
           "the view was so beautiful", "the music was too loud",
           "the soup tasted of smoke", "the bridge was closed", "her brother was sick",
           "the ferry never arrived", "the ink had faded", "the clock had stopped",
           "the ice cream melted", "the neighbors were shouting", "the map was wrong",
           "the paint was still wet", "the zoo was full of children",
           "the judge was in a bad mood", "the mayor made a joke")


def _np(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _thing(rng, plural: bool = False) -> str:
    sing, plur = _np(rng, THINGS)
    noun = plur if plural else sing
    r = rng.random()
    if r < 0.3:
        noun = f"{_np(rng, ADJECTIVES)} {noun}"
    elif r < 0.5:
        noun = f"{_np(rng, COLOURS)} {noun}"
    elif r < 0.6:
        noun = f"{_np(rng, ADJECTIVES)} {_np(rng, COLOURS)} {noun}"
    if plural:
        return _np(rng, ("the ", "some ", "those ", "her ", "our ", "")) + noun
    return _np(rng, ("the ", "a ", "my ", "his ", "their ", "this ", "that ")) + noun


def _subject(rng) -> tuple[str, bool]:
    """(subject, is third person singular)."""
    r = rng.random()
    if r < 0.35:
        return _np(rng, NAMES), True
    if r < 0.6:
        sing, plur = _np(rng, PEOPLE)
        return (sing, True) if rng.random() < 0.6 else (plur, False)
    if r < 0.75:
        sing, plur = _np(rng, ANIMALS)
        return (sing, True) if rng.random() < 0.6 else (plur, False)
    return _np(rng, ("I", "we", "you", "they")), False


def _object(rng) -> str:
    r = rng.random()
    if r < 0.65:
        return _thing(rng, plural=rng.random() < 0.3)
    if r < 0.8:
        return _np(rng, ("the ", "some ", "fresh ", "a jar of ", "a bowl of ")) + _np(rng, FOODS)
    if r < 0.9:
        return _np(rng, ANIMALS)[int(rng.random() < 0.4)]
    return _np(rng, NAMES)


def _clause(rng) -> str:
    subj, third = _subject(rng)
    r = rng.random()
    if r < 0.45:
        return f"{subj} {_np(rng, VERBS_T)[1]} {_object(rng)}"
    if r < 0.7:
        return f"{subj} {_np(rng, VERBS_I)[1]} {_np(rng, ADVERBS)}"
    if r < 0.85:
        verb = _np(rng, VERBS_T)[2] if third else _np(rng, VERBS_T)[0]
        return f"{subj} {verb} {_object(rng)} {_np(rng, PLACES)}"
    be = "was" if third or subj == "I" else "were"
    return f"{subj} {be} {_np(rng, FEELINGS)}"


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _template(rng) -> str:
    k = int(rng.integers(24))
    subj, third = _subject(rng)
    vt, vi = _np(rng, VERBS_T), _np(rng, VERBS_I)
    if k == 0:
        return f"{subj} {vt[1]} {_object(rng)} {_np(rng, PLACES)}."
    if k == 1:
        return f"{_cap(_np(rng, TIMES))}, {subj} {vt[1]} {_object(rng)} and {_np(rng, VERBS_T)[1]} {_object(rng)}."
    if k == 2:
        return f"Did {subj} {vt[0]} {_object(rng)} {_np(rng, PLACES)}?"
    if k == 3:
        return f"Why is {_thing(rng)} so {_np(rng, ADJECTIVES)}?"
    if k == 4:
        return f"Where did you put {_object(rng)}?"
    if k == 5:
        return f"Please {vt[0]} {_object(rng)} {_np(rng, PLACES)}."
    if k == 6:
        return f"Don't {vt[0]} {_object(rng)}!"
    if k == 7:
        return f"{_np(rng, INTERJECTIONS)}, {_thing(rng)} is {_np(rng, ADJECTIVES)}!"
    if k == 8:
        return f"What a {_np(rng, ADJECTIVES)} {_np(rng, THINGS)[0]}!"
    if k == 9:
        return (f"{_cap(_np(rng, TIMES))}, {subj} {vt[1]} {_object(rng)} {_np(rng, PLACES)}, "
                f"but {_clause(rng)} because {_np(rng, REASONS)}.")
    if k == 10:
        return f"{subj} counted {_np(rng, NUMBERS)} {_np(rng, THINGS)[1]} {_np(rng, PLACES)}."
    if k == 11:
        return f"I think {_clause(rng)}."
    if k == 12:
        return f"{_np(rng, NAMES)} said that {_clause(rng)} {_np(rng, TIMES)}."
    if k == 13:
        return f"If {_clause(rng)}, {_clause(rng)}."
    if k == 14:
        return f"{_cap(_np(rng, ADJECTIVES))} {_np(rng, THINGS)[1]}."
    if k == 15:
        return f"{_np(rng, INTERJECTIONS)}! {_cap(_clause(rng))}."
    if k == 16:
        return f"{subj} {vi[1]} {_np(rng, ADVERBS)} {_np(rng, PLACES)} {_np(rng, TIMES)}."
    if k == 17:
        be = "is" if third else ("am" if subj == "I" else "are")
        return f"{subj} {be} {_np(rng, FEELINGS)} because {_np(rng, REASONS)}."
    if k == 18:
        return f"Who {vt[1]} {_object(rng)}?"
    if k == 19:
        return (f"When {_clause(rng)}, {_clause(rng)}, and then {_clause(rng)} "
                f"{_np(rng, TIMES)}.")
    if k == 20:
        return f"{_np(rng, FOODS)} and {_np(rng, FOODS)} {_np(rng, PLACES)}?"
    if k == 21:
        return f"How could {subj} {vi[0]} {_np(rng, PLACES)} {_np(rng, TIMES)}?"
    if k == 22:
        return (f"{_cap(_clause(rng))}, {_clause(rng)}, and {_clause(rng)}, "
                f"although {_np(rng, REASONS)}.")
    return f"{_cap(_np(rng, COLOURS))} {_np(rng, THINGS)[1]} and {_np(rng, ADJECTIVES)} {_np(rng, THINGS)[1]}."


def _finish(s: str) -> str:
    s = re.sub(r"\s+", " ", s).strip()
    return _cap(s)


# ------------------------------------------------------------------- balance

@lru_cache(maxsize=1)
def _cmudict() -> dict[str, tuple[str, ...]]:
    from pocketsphinx import get_model_path

    table: dict[str, tuple[str, ...]] = {}
    with open(get_model_path("en-us/cmudict-en-us.dict"), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if parts and "(" not in parts[0]:
                table[parts[0]] = tuple(p.rstrip("012") for p in parts[1:])
    return table


def _words(sentence: str) -> list[str]:
    return [w.strip("'") for w in re.findall(r"[a-z']+", sentence.lower()) if w.strip("'")]


def phones_of(sentence: str) -> list[str] | None:
    """ARPABET phones with word boundaries as '#', or None if a word is not in CMUdict."""
    table = _cmudict()
    out = ["#"]
    for w in _words(sentence):
        pron = table.get(w)
        if pron is None:
            return None
        out.extend(pron)
        out.append("#")
    return out


def _units(sentence: str) -> list[str] | None:
    ph = phones_of(sentence)
    if ph is None:
        return None
    units = [p for p in ph if p != "#"]
    units += [f"{a}_{b}" for a, b in pairwise(ph) if not (a == "#" and b == "#")]
    return units


def _select(candidates: list[str], count: int, counts: dict[str, int]) -> list[str]:
    """Lazy greedy: take the sentence whose units add the most, where a unit seen c times
    already is worth 1 / (1 + c) (diminishing returns: balance, not just coverage)."""
    units = {s: _units(s) for s in candidates}

    def gain(s: str) -> float:
        return sum(1.0 / (1 + counts.get(u, 0)) for u in units[s]) / len(units[s]) ** 0.5

    heap = [(-gain(s), i, s) for i, s in enumerate(candidates)]
    heapq.heapify(heap)
    chosen: list[str] = []
    while heap and len(chosen) < count:
        _stale, i, s = heapq.heappop(heap)
        fresh = gain(s)
        if heap and fresh < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-fresh, i, s))
            continue
        chosen.append(s)
        for u in units[s]:
            counts[u] = counts.get(u, 0) + 1
    return chosen


def generate(candidates: int = CANDIDATES, count: int = GENERATED, seed: int = SEED) -> list[str]:
    """The full list: hand-written lines, then the selected generated sentences."""
    hand = [line.strip() for line in HAND_WRITTEN.splitlines() if line.strip()]
    seen = {s.lower() for s in hand}
    rng = np.random.default_rng(seed)
    bands: list[list[str]] = [[] for _ in LENGTH_BANDS]
    for _ in range(candidates):
        s = _finish(_template(rng))
        key = s.lower()
        if key in seen:
            continue
        n = len(_words(s))
        for b, (lo, hi, _share) in enumerate(LENGTH_BANDS):
            if lo <= n <= hi:
                if _units(s) is not None:
                    seen.add(key)
                    bands[b].append(s)
                break
    counts: dict[str, int] = {}
    for s in hand:
        for u in _units(s) or []:
            counts[u] = counts.get(u, 0) + 1
    chosen: list[str] = []
    for (_lo, _hi, share), pool in zip(LENGTH_BANDS, bands):
        chosen.extend(_select(pool, round(share * count), counts))
    # interleave lengths so any prefix of the list has the same mix
    order = np.random.default_rng(seed + 1).permutation(len(chosen))
    return hand + [chosen[i] for i in order]


def write_asset(path: Path = ASSET) -> int:
    lines = generate()
    header = ("# emoface synthetic-speech sentences (original; see tools/sentences.py).\n"
              "# Generated by `python tools/sentences.py`; do not edit by hand.\n")
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


if __name__ == "__main__":
    n = write_asset()
    print(f"wrote {n} sentences to {ASSET}")
