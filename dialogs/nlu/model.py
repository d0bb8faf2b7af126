"""The trained intent classifier: a linear SVM over character 1-3-grams of the message
plus a few lexicon and slot cues (a crop or pest named, a phone, a place, a question form,
an expert speaking of themselves …).

It is trained from ``knowledge/nlu/intents.jsonl`` the first time it is needed and kept for
the life of the process; given a cache directory (MODEL_CACHE_DIR), a process loads the model
another one trained from the same examples and code (see :mod:`dialogs.nlu.model_cache`).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy import sparse

from dialogs.nlu import model_cache
from dialogs.nlu.commands import is_order_text, order_command
from dialogs.nlu.periods import find_period
from dialogs.nlu.regions import find_mentions
from dialogs.nlu.slots import Slots, extract
from dialogs.nlu.typos import words
from knowledge.intents import load_intent_examples

log = logging.getLogger(__name__)

# Cues a reader uses beyond the words themselves; the model weighs them.
_CUES: dict[str, re.Pattern[str]] = {
    "ask": re.compile(
        r"怎么|怎样|咋|如何|什么|啥|为什么|为啥|哪|多少|几[时月天次个]|多久|多长|能不能|可不可以|"
        r"是不是|有没有|有没得|要不要|会不会|行不行|好不好|对不对|请问|好久"
    ),
    "ends_ask": re.compile(r"(?:[？?]|吗|嘛|么|不|没|没得|没有|呢|哇)\s*[。！!~]*\s*$"),
    "i_am": re.compile(
        r"我是|本人|我们是|我们(?:团队|公司|合作社|单位)|我在.{0,8}(?:工作|上班|当)"
    ),
    "offer": re.compile(
        r"(?:可以|能|会|愿意)(?:提供|上门|指导|培训|讲课|帮|教|接)|提供.{0,10}(?:服务|指导)|"
        r"接.{0,8}(?:单|活)|找我|擅长|专长|从事|经验|退休|想教|教教|带带|"
        # years of practice (干了十八年, 养了二十多年, 十几年了), not any span of years
        # (一年发几代, 这两年发过的需求)
        r"(?:干|搞|做|养|种|教|研究|工作|推广|飞)(?:了|过)?[^，,。！？?\s]{0,8}?"
        r"[0-9一二三四五六七八九十几两]+[来几多]?年|[0-9一二三四五六七八九十几两]+[来几多]?年(?:了|的?经验|工龄)"
    ),
    "join": re.compile(r"入驻|登记|注册|认证|当专家|成为专家|做专家|加入"),
    "seek": re.compile(
        r"请(?!问|教)|找|求|需要|急需|帮忙|帮我|来看|上门|推荐|派|安排|喊个|叫个|哪位|哪个.{0,4}(?:专家|老师|师傅)"
    ),
    "expert_word": re.compile(r"专家|老师|师傅|技术员|兽医|农技"),
    # engaging someone over time (an adviser, a hire, a partner): talent, not a problem now
    "engage": re.compile(
        r"长期|常年|年度|[年月]薪|全职|兼职|入股|签.{0,4}(?:协议|合同)|"
        r"聘|招(?:聘|人|收|募|一[个名位])|顾问|驻场|驻村|常驻|人才|人选|合作(?!社)|为期|"
        r"帮扶|授课|讲课|上[几一]?节?课|规划|出方案|研发|开发|组建|专家组|团队"
    ),
    # an organisation speaking (本公司, 我们村, 学校想): who hires, advises and cooperates
    "organisation_speaks": re.compile(
        r"本公司|我司|本单位|我们(?:村|乡|镇|县|区|市|学校|公司|企业|厂|协会|单位|园区|基地|局)|"
        r"(?:村|乡|镇|县|学校|公司|企业|[酒药茶食]厂|协会|局|研发部)(?:里|上|这边)?"
        r"(?:想|要|准备|拟|需要|计划)"
    ),
    # an achievement, technique, patent or variety as a thing to publish or to acquire
    "result": re.compile(
        r"成果|专利|新品种|品种权|工艺|配方|模式|方法|一项技术|一套|技术(?:转让|成果|包)|著作权|标准"
    ),
    "own_result": re.compile(
        r"(?:研究|研发|选育|育成|培育|摸索|发明|开发|总结|试验|选)(?:出|了|过|成功|的)"
    ),
    "publish": re.compile(
        r"发布|登记|入库|入成果库|录进|录入|上架|申报|展示|挂到|放到平台|作为成果"
    ),
    "acquire": re.compile(
        r"求购|引进|购买|买断|受让|转让给|想要|想找|寻找|寻求|(?<!需)求|有没有|哪里有"
    ),
    # one's own stored records taken away or looked at (导出我的记录, 要表格的)
    "export": re.compile(r"导出|下载|表格|excel|csv|备份|打包", re.IGNORECASE),
    "you": re.compile(r"你们?|您|平台|这个(?:机器人|程序|东西)"),
    "push": re.compile(r"推送|订阅|推给|发给我|通知我|告诉我|定期|每[周天月]|预警|提醒|关注|收到"),
    "stop_push": re.compile(
        r"(?:不要|别|停|取消|退|关闭|关掉|删|不想|太多|屏蔽).{0,8}(?:推|发|提醒|名单|消息|通知|预警)|"
        r"(?:推送|提醒|通知|名单|预警|科普|资讯).{0,8}(?:不要|别|停|取消|退|关闭|关掉|删|不看|不收|屏蔽)|"
        r"的(?:都|就)?(?:不看了|退掉|退了)|"
        r"(?:太多|太频繁|好烦|烦死).{0,10}(?:不要|别|停|取消|退|关|删)"
    ),
    "figures": re.compile(
        r"统计|指标|排名|排个名|排行|平均|人数|总数|获取率|供给率|完成率|好评率|解决率|响应|数据|看板|报表|"
        r"最多|最少|最高|最低|一共|总共|占比|比例|同比|环比|新增|"
        r"各(?:市|县|区|地|州)|(?:专家|需求|用户|订单|企业|成果)(?:总)?数|数量"
    ),
}
_NGRAMS = (1, 3)
_DIGITS = re.compile(r"[0-9]+")
_SPACE = re.compile(r"\s+")
_WORDLIKE = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


def normalise(text: str) -> str:
    """What the character n-grams read: NFKC, lower case, digits as 0, one space, anchored."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = _SPACE.sub(" ", _DIGITS.sub("0", t)).strip()
    return f"^{t}$"


def word_grams(text: str) -> list[str]:
    """What the word features read: jieba's words of the message and each pair of
    neighbours, between start and end marks (the same normalising as the character n-grams)."""
    t = unicodedata.normalize("NFKC", text).lower()
    tokens = ["^", *(w for w in words(_DIGITS.sub("0", t)) if w.strip()), "$"]
    return tokens[1:-1] + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def _tfidf(grams: Iterable[str], vocabulary: dict[str, int], idf: np.ndarray) -> dict[int, float]:
    """Sublinear tf-idf of *grams*, unit length (scikit-learn's TfidfVectorizer, by hand)."""
    out: dict[int, float] = {}
    for gram, count in Counter(grams).items():
        column = vocabulary.get(gram)
        if column is not None:
            out[column] = (1.0 + math.log(count)) * float(idf[column])
    norm = math.sqrt(sum(v * v for v in out.values())) or 1.0
    return {c: v / norm for c, v in out.items()}


def asks(text: str) -> bool:
    """The message has the form of a question (a question word, or a question ending)."""
    return bool(_CUES["ask"].search(text) or _CUES["ends_ask"].search(text))


def _only_from_a_place(text: str) -> bool:
    """Every "我是" of *text* says where the person is from ("我是荣昌的", "我是会理人")."""
    starts = {m.start: m.text for m in find_mentions(text)}
    seen = False
    for hit in re.finditer(r"我是", text):
        place = starts.get(hit.end())
        # the clause ends after 的/人: "我是石柱的村级农技员" says who they are
        if not place or not _CLAUSE_END.match(text, hit.end() + len(place)):
            return False
        seen = True
    return seen


_PAIRS = (
    ("engage", "expert_word"),
    ("engage", "organisation_speaks"),
    ("result", "publish"),
    ("result", "acquire"),
    ("result", "own_result"),
    ("export", "order_words"),
)
_LEFT_OVER = re.compile(r"[的了呢喃吧嘛\s，,。.！!？?~～、/-]+")


def _only_place_and_period(text: str) -> bool:
    """*text* names a place and a period and nothing else ("达州市2026年11月", "三台县上个月的")."""
    period = find_period(text, _PERIOD_NOW)
    if period is None:
        return False
    rest = text[: period.start] + " " * (period.end - period.start) + text[period.end :]
    mentions = find_mentions(rest)
    if not mentions:
        return False
    for m in mentions:
        rest = rest[: m.start] + " " * len(m.text) + rest[m.start + len(m.text) :]
    return not _LEFT_OVER.sub("", _DIGITS.sub("", rest))


# the period's dates do not matter here, only where its words are
_PERIOD_NOW = datetime(2026, 6, 15, tzinfo=UTC)

_CLAUSE_END = re.compile(r"[的人](?:$|[\s，,。.!！?？、~]|[哈哦嘛噻])")


def cues(text: str, slots: Slots) -> dict[str, float]:
    """The lexicon, slot and cue-word features of one message."""
    out: dict[str, float] = {name: 1.0 for name, rx in _CUES.items() if rx.search(text)}
    if "i_am" in out and _only_from_a_place(text):
        # "我是荣昌的", "我是会理人": where they live, not who they are
        del out["i_am"]
        out["from_place"] = 1.0
    if _only_place_and_period(text):
        out["place_period"] = 1.0  # "达州市2026年11月": which figures, said in a few words
    flags = {
        "crop": bool(slots.crop),
        "crops_many": len(slots.crops) > 1,
        "pest": bool(slots.pests),
        "problem": bool(slots.problem),
        "phone": bool(slots.phone or slots.bad_phone),
        "place": bool(slots.places or slots.ambiguous_places),
        "budget": slots.budget is not None,
        "urgent": bool(slots.urgency),
        "fields": bool(slots.fields),
        "title": bool(slots.title),
        "organisation": bool(slots.organisation),
        "name": bool(slots.name),
        "order_words": is_order_text(text),
        "slash": text.lstrip().startswith("/"),
    }
    out.update({name: 1.0 for name, on in flags.items() if on})
    if flags["order_words"] and (command := order_command(text)) is not None:
        # which order verb: browsing open needs (找项目) is another intent than one's own orders
        out[f"order={command.verb.value}"] = 1.0
    if slots.category:
        out[f"category={slots.category}"] = 1.0
    # pairs a linear model cannot weigh from their parts: who is sought and for how long,
    # whether an achievement is one's own to publish or someone else's to acquire, one's
    # needs exported rather than followed
    for pair in _PAIRS:
        if all(name in out for name in pair):
            out["+".join(pair)] = 1.0
    n = len(text.strip())
    latin = sum(1 for ch in text if ch.isascii() and not ch.isspace() and not ch.isdigit())
    if latin * 2 > n:
        out["mostly_latin"] = 1.0  # markup, code, keyboard mashing: rarely a farmer's message
    if not _WORDLIKE.search(text):
        out["no_words"] = 1.0  # "。。。", emoji only: nothing said in words
    elif len(set(text.strip())) <= 2 < n:
        out["one_sound"] = 1.0  # "啊啊啊啊", "哈哈哈": a sound, not a sentence
    out["len<=4" if n <= 4 else "len<=10" if n <= 10 else "len<=25" if n <= 25 else "len>25"] = 1
    return out


@dataclass(frozen=True, slots=True)
class Ranked:
    """The intents of one message, most probable first, with their probabilities."""

    labels: tuple[str, ...]
    probabilities: tuple[float, ...]

    @property
    def top(self) -> str:
        return self.labels[0]

    @property
    def confidence(self) -> float:
        return self.probabilities[0]

    @property
    def runner_up(self) -> str:
        return self.labels[1] if len(self.labels) > 1 else ""


class IntentModel:
    """A linear SVM over character n-grams, word n-grams and cues. Build one with :meth:`train`.

    Probabilities are the softmax of the SVM's scores divided by a temperature (temperature
    scaling): cheap, and good enough to tell a sure message from one worth a clarifying
    question.

    scikit-learn fits the model; a message is then scored with the learnt numbers alone (a
    dictionary look-up per n-gram and one small matrix product), a few hundredths of a
    millisecond instead of scikit-learn's per-call overhead.
    """

    CUE_WEIGHT = 0.4  # the cue block's scale next to the unit-length n-gram vectors
    WORD_WEIGHT = 0.6  # the word block's scale next to the character block
    TEMPERATURE = 0.18  # fitted: least log-loss on cross-validated scores of the tune split

    def __init__(
        self,
        labels: Sequence[str],
        vocabulary: dict[str, int],
        idf: np.ndarray,
        cue_index: dict[str, int],
        weights: np.ndarray,
        bias: np.ndarray,
        word_vocabulary: dict[str, int] | None = None,
        word_idf: np.ndarray | None = None,
    ) -> None:
        self.labels: tuple[str, ...] = tuple(labels)
        self._vocabulary = vocabulary
        self._idf = idf
        self._word_vocabulary = word_vocabulary or {}
        self._word_idf = word_idf if word_idf is not None else np.zeros(0)
        self._cue_index = cue_index
        self._weights = weights  # (char n-grams + word n-grams + cues) x intents
        self._bias = bias

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        intents: Sequence[str],
        slots: Sequence[Slots] | None = None,
        *,
        c: float = 1.0,
        word_weight: float | None = None,
        class_weight: str | None = None,
    ) -> IntentModel:
        """A model fitted on *texts* labelled *intents* (*slots*: their extracted slots)."""
        # imported here: scikit-learn takes a second to import, paid only when first needed
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        if len(texts) != len(intents) or len(set(intents)) < 3:
            msg = f"need texts and as many labels of at least 3 intents, got {len(texts)} texts"
            raise ValueError(msg)
        all_slots = list(slots) if slots is not None else [extract(t) for t in texts]
        ww = cls.WORD_WEIGHT if word_weight is None else word_weight
        ngrams = TfidfVectorizer(
            analyzer="char", ngram_range=_NGRAMS, sublinear_tf=True, preprocessor=normalise
        )
        word_ngrams = TfidfVectorizer(analyzer=word_grams, sublinear_tf=True)
        cue_vectors = DictVectorizer()
        x = sparse.hstack(
            [
                ngrams.fit_transform(texts),
                word_ngrams.fit_transform(texts) * ww,
                cue_vectors.fit_transform(
                    [cues(t, s) for t, s in zip(texts, all_slots, strict=True)]
                )
                * cls.CUE_WEIGHT,
            ]
        ).tocsr()
        clf = LinearSVC(C=c, class_weight=class_weight, random_state=0)
        clf.fit(x, list(intents))
        model = cls(
            [str(label) for label in clf.classes_],
            {str(k): int(v) for k, v in ngrams.vocabulary_.items()},
            np.asarray(ngrams.idf_, dtype=np.float64),
            {str(k): int(v) for k, v in cue_vectors.vocabulary_.items()},
            np.ascontiguousarray(clf.coef_.T, dtype=np.float64),
            np.asarray(clf.intercept_, dtype=np.float64),
            {str(k): int(v) for k, v in word_ngrams.vocabulary_.items()},
            np.asarray(word_ngrams.idf_, dtype=np.float64),
        )
        model.word_weight = ww
        return model

    word_weight: float = WORD_WEIGHT

    def scores(self, text: str, slots: Slots) -> np.ndarray:
        """The SVM's score of each intent (in :attr:`labels` order) for one message."""
        t = normalise(text)
        chars = _tfidf(
            (
                t[i : i + n]
                for n in range(_NGRAMS[0], _NGRAMS[1] + 1)
                for i in range(len(t) - n + 1)
            ),
            self._vocabulary,
            self._idf,
        )
        columns: list[int] = list(chars)
        values: list[float] = list(chars.values())
        offset = len(self._idf)
        if self._word_vocabulary:
            for column, value in _tfidf(
                word_grams(text), self._word_vocabulary, self._word_idf
            ).items():
                columns.append(offset + column)
                values.append(value * self.word_weight)
        offset += len(self._word_idf)
        for name, value in cues(text, slots).items():
            cue = self._cue_index.get(name)
            if cue is not None:
                columns.append(offset + cue)
                values.append(value * self.CUE_WEIGHT)
        if not columns:
            return self._bias.copy()
        return np.asarray(values) @ self._weights[columns] + self._bias

    def rank(self, text: str, slots: Slots) -> Ranked:
        """The intents of *text*, most probable first."""
        scores = self.scores(text, slots) / self.TEMPERATURE
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        order = np.argsort(-probabilities)
        return Ranked(
            tuple(self.labels[i] for i in order), tuple(float(probabilities[i]) for i in order)
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything the model has learnt, as plain arrays (see :meth:`from_arrays`)."""

        def terms(vocabulary: dict[str, int]) -> np.ndarray:
            return np.array(sorted(vocabulary, key=vocabulary.__getitem__), dtype=str)

        return {
            "labels": np.array(self.labels, dtype=str),
            "chars": terms(self._vocabulary),
            "idf": self._idf,
            "words": terms(self._word_vocabulary),
            "word_idf": self._word_idf,
            "cues": terms(self._cue_index),
            "weights": self._weights,
            "bias": self._bias,
            "word_weight": np.array(self.word_weight),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> IntentModel:
        """The model :meth:`arrays` describes; ValueError or KeyError when they do not fit
        together."""

        def index(name: str) -> dict[str, int]:
            return {term: i for i, term in enumerate(arrays[name].tolist())}

        labels, chars, words_, cue_index = (
            arrays["labels"].tolist(),
            index("chars"),
            index("words"),
            index("cues"),
        )
        idf, word_idf = arrays["idf"], arrays["word_idf"]
        weights, bias = arrays["weights"], arrays["bias"]
        rows = len(chars) + len(words_) + len(cue_index)
        if (
            len(idf) != len(chars)
            or len(word_idf) != len(words_)
            or weights.shape != (rows, len(labels))
            or bias.shape != (len(labels),)
        ):
            msg = (
                f"arrays do not fit: {len(labels)} labels, {len(chars)}/{len(idf)} char terms, "
                f"{len(words_)}/{len(word_idf)} word terms, {len(cue_index)} cues, "
                f"weights {weights.shape}, bias {bias.shape}"
            )
            raise ValueError(msg)
        model = cls(labels, chars, idf, cue_index, weights, bias, words_, word_idf)
        model.word_weight = float(arrays["word_weight"])
        return model

    def rank_many(self, texts: Sequence[str], slots: Sequence[Slots]) -> list[Ranked]:
        return [self.rank(t, s) for t, s in zip(texts, slots, strict=True)]


_default: IntentModel | None = None
_default_lock = threading.Lock()


def default_model(cache_dir: Path | None = None) -> IntentModel:
    """The model of the bundled examples, made once per process: loaded from *cache_dir*
    when an entry for this code and data is there, else trained (and then stored there).
    The first call decides; later calls return the same model whatever their *cache_dir*."""
    global _default
    with _default_lock:  # the worker warms it in a thread while another may ask for it
        if _default is None:
            _default = _load_or_train(cache_dir)
        return _default


def _load_or_train(cache_dir: Path | None) -> IntentModel:
    started = time.perf_counter()
    key = model_cache.cache_key() if cache_dir is not None else ""
    if cache_dir is not None and (arrays := model_cache.load(cache_dir, key)) is not None:
        try:
            model = IntentModel.from_arrays(arrays)
        except (KeyError, ValueError) as exc:
            log.warning(
                "intent model cache in %s is inconsistent (%s); training again", cache_dir, exc
            )
        else:
            log.info(
                "intent model loaded from %s in %.0f ms",
                cache_dir,
                (time.perf_counter() - started) * 1000,
            )
            return model
    examples = load_intent_examples()
    model = IntentModel.train([e.text for e in examples], [e.intent for e in examples])
    log.info(
        "intent model trained on %d examples in %.0f ms",
        len(examples),
        (time.perf_counter() - started) * 1000,
    )
    if cache_dir is not None:
        model_cache.save(cache_dir, key, model.arrays())
    return model
