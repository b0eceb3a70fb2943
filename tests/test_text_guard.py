"""cosmos_nb.text_guard against the libraries the reference's blocklist calls: better_profanity 0.7.0 and NLTK 3.9.1.

Skipped unless better_profanity is installed (a dev requirement; NLTK is a dependency). NLTK reads the stand-in's
`nltk_data` (WordNet and Punkt files written by `write_tiny_blocklist`); Punkt's tables there are empty, so its
sentence splitting is the untrained one.
"""
import random, re, string, difflib
import pytest
from cosmos_nb.text_guard import (GUARDRAIL_DIR, TINY_NOUNS, TINY_NOUN_EXCEPTIONS, Blocklist, NounLemmatizer, WordCensor,
                                  read_word_list, write_tiny_blocklist)

bp = pytest.importorskip('better_profanity', reason='better_profanity 0.7.0 is not installed')
nltk = pytest.importorskip('nltk', reason='nltk 3.9.1 is not installed')

MARK = '\x1b[31m*\x1b[0m'   # the reference's censor mark in a terminal (termcolor red '*'), so that a literal '*' does not block

@pytest.fixture(scope='module')
def guardrail_dir(tmp_path_factory):
    return write_tiny_blocklist(tmp_path_factory.mktemp('ck')/GUARDRAIL_DIR).parent

@pytest.fixture(scope='module')
def nltk_on_stand_in(guardrail_dir):
    "NLTK reading only the stand-in's nltk_data (as the reference's nltk.data.path.append, with nothing before it)."
    old = list(nltk.data.path)
    nltk.data.path[:] = [str(guardrail_dir/'blocklist'/'nltk_data')]
    yield nltk
    nltk.data.path[:] = old

def _profanity(words, whitelist):
    p = bp.Profanity()                       # loads the library's own list first, as the reference's module-level object did
    p.load_censor_words(custom_words=list(words), whitelist_words=list(whitelist))
    return p

def _ref_censored(p, text, whitelist) -> bool:
    "The reference's `Blocklist.censor_prompt`: censor, restore whitelisted tokens by index, look for the mark."
    censored, white = p.censor(text, censor_char=MARK).split(), {w.lower() for w in whitelist}
    for i, tok in enumerate(text.split()):
        if tok.strip(string.punctuation).lower() in white: censored[i] = tok
    return MARK in ' '.join(censored)

def test_word_censor_matches_better_profanity():
    rng = random.Random(0)
    words = ['gun', 'pipe bomb', 'nerve gas', 'x-rated', 'meth', 'crack', 'uzi', 'a', 'lsd', 'ak-47', 'tnt', 'g*n', 'hand  job', "o'neil", 'p.o.t.']
    vocab = ['gun', 'Gun', 'g*n', 'gvn', 'g4n', 'guns', 'pipe', 'bomb', 'nerve', 'gas', 'x', 'rated', 'meth', 'm3th', 'crack', 'cr4ck', 'uzi',
             'vzl', 'a', '4', '@', 'lsd', '1sd', 'ak', '47', 'tnt', '7n7', 'hand', 'job', 'p', 'o', 't', 'pot', 'the', 'robot', "o'neil", '"gun"']
    seps = [' ', ' ', ' ', '  ', '-', ', ', '. ', '!', '?', '"', "'", '*', '--', ' (', ') ', '\n', '.', ';', '...']
    for whitelist in ([], ['crack', 'Gunther', 'g4n']):
        p, mine, n = _profanity(words, whitelist), WordCensor(words, whitelist), 0
        assert mine.max_next == p.MAX_NUMBER_COMBINATIONS
        for _ in range(20000):
            t = rng.choice(['', ' ', '"', '(']) + ''.join(rng.choice(vocab) + rng.choice(seps) for _ in range(rng.randint(1, 7)))
            try: want = _ref_censored(p, t, whitelist)
            except IndexError: continue              # the reference crashes here
            assert bool(mine.matches(t)) == want, t
            n += 1
        assert n > 19000
    short = ['ab', 'a b', 'a-b', 'b', 'x y z', "a'b", '$s', 'q  q']   # random characters: the library's edge cases
    p, mine = _profanity(short, []), WordCensor(short)
    for _ in range(50000):
        t = ''.join(rng.choice('ab4@*xyzq $-\'".,  ') for _ in range(rng.randint(0, 12)))
        assert bool(mine.raw_matches(t)) == (MARK in p.censor(t, censor_char=MARK)), t

def test_lemmatizer_matches_nltk(guardrail_dir, nltk_on_stand_in):
    wnl = nltk.WordNetLemmatizer()
    mine = NounLemmatizer.from_nltk_data(guardrail_dir/'blocklist'/'nltk_data')
    words = TINY_NOUNS + list(TINY_NOUN_EXCEPTIONS) + ['guns', 'Guns', 'gases', 'boxes', 'churches', 'wolves', 'men', 'women', 'glasses',
                                                        'lives', 'us', 'cities', 'xyz', "gun's", 'knife.', 'rifles', 'mouses', '']
    assert [mine.lemmatize(w) for w in words] == [wnl.lemmatize(w) for w in words]

def test_blocklist_matches_reference(guardrail_dir, nltk_on_stand_in):
    "The reference's `Blocklist.is_safe`, rebuilt on better_profanity and NLTK, against `Blocklist.check` on random prompts."
    b = guardrail_dir/'blocklist'
    custom, white, exact = (read_word_list(b/s) for s in ('custom', 'whitelist', 'exact_match'))
    p, wnl = _profanity(custom, white), nltk.WordNetLemmatizer()
    def reference(prompt):
        if not prompt: return 'empty'
        prompt = re.sub(r'[^\x00-\x7F]+', ' ', prompt)
        if _ref_censored(p, prompt, white): return 'censored'
        if _ref_censored(p, ' '.join(wnl.lemmatize(t) for t in nltk.word_tokenize(prompt)), white): return 'lemma'
        norm = re.sub(r'\s+', ' ', prompt).strip().lower()
        for w in exact:
            nw = re.sub(r'\s+', ' ', w).strip().lower()
            if re.search(r'\b' + re.escape(nw) + r'\b', norm): return 'exact'
            if len(nw) >= 6:
                pw, k = norm.split(), len(nw.split())
                if any(difflib.SequenceMatcher(None, ' '.join(pw[i:i+k]), nw).ratio() >= (len(nw) - 0.4)/len(nw) for i in range(len(pw) - k + 1)):
                    return 'partial'
        return None
    def kind(msg):
        if msg is None: return None
        if 'empty' in msg: return 'empty'
        if '(as ' in msg: return 'lemma'
        if 'exact-match list' in msg: return 'exact' if msg.endswith('is on the exact-match list') else 'partial'
        return 'censored'
    mine = Blocklist.from_folder(guardrail_dir)
    vocab = ['a', 'robot', 'walks', 'in', 'the', 'city', 'gun', 'guns', 'Guns', 'g*n', 'gvn', 'g4ns', 'rifles', 'assault', 'rifle', 'knives',
             'Knives', 'pipe', 'bomb', 'bombs', 'nerve', 'gas', 'gases', "gas's", 'AK-47', 'ak', '47', 'shooting', 'star', 'Gunther', 'cocaine',
             'h3roin', 'meth', 'crack', 'LSD', '1sd', 'ricin', 'Ricin', 'sarin', 'molotov', 'cocktail', 'cocktails', '#buyammo', 'buyammo',
             'naïve', 'café', "gun's", "knife's", 'children', 'mice', '"guns"', "'guns'", 'machetes', 'grenades', 'Dr.', 'e.g.', 'glasses', '']
    seps = [' ', ' ', ' ', '  ', ', ', '. ', '! ', '? ', '-', '; ', ' "', '" ', '\n', ' (', ') ', '... ', ': ', '.', ' * ']
    rng, seen = random.Random(2), {}
    for _ in range(6000):
        t = ''.join(rng.choice(vocab) + rng.choice(seps) for _ in range(rng.randint(1, 8))).strip(' ') if rng.random() > .01 else ''
        try: want = reference(t)
        except IndexError: continue
        assert kind(mine.check(t)) == want, (t, mine.check(t), want)
        seen[want] = seen.get(want, 0) + 1
    assert all(seen.get(k, 0) > 10 for k in ('censored', 'lemma', 'exact', 'partial', None)), seen

def test_guardrails_are_freed_when_dropped(tmp_path):
    "In a fresh interpreter (NLTK first imported by the loader), dropping the guardrails frees Llama Guard: nothing keeps the loader's frames."
    import subprocess, sys
    code = f"""
import gc, weakref
from cosmos_nb.text_guard import TextGuardrails, make_tiny_text_guardrails
make_tiny_text_guardrails({str(tmp_path)!r})
def load(): return TextGuardrails.from_checkpoint_dir({str(tmp_path)!r}, device='cpu')
g = load(); ref = weakref.ref(g.llama_guard.model); assert g.check('a robot') is None
del g; gc.collect()
print('FREED' if ref() is None else 'ALIVE')
"""
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.stdout.strip().endswith('FREED'), r.stdout[-2000:] + r.stderr[-2000:]
