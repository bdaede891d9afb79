"""The pronunciation stage: polyphones in context, tone sandhi, pinyin in the lexicon, `briefing pinyin`."""

import pytest
from typer.testing import CliRunner

from briefing.cli import app
from briefing.errors import ConfigError
from briefing.normalize import Lexicon, to_spoken
from briefing.pinyin import characters_for, dictionary_readings, spoken_syllables


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        ("银行行长", "yin2 hang2 hang2 zhang3"),
        ("他还要还钱", "ta1 hai2 yao4 huan2 qian2"),
        ("重新调整利率", "chong2 xin1 tiao2 zheng3 li4 lv4"),
        ("重要的长江大桥", "zhong4 yao4 de5 chang2 jiang1 da4 qiao2"),
        ("孩子长大了", "hai2 zi5 zhang3 da4 le5"),
        ("了解情况", "liao3 jie3 qing2 kuang4"),
        ("会计处理", "kuai4 ji4 chu3 li3"),
        ("作为代表", "zuo4 wei2 dai4 biao3"),
        ("担当实干，干出加速度", "dan1 dang1 shi2 gan4 gan4 chu1 jia1 su4 du4"),
        ("区疫情防控指挥部指挥长", "qu1 yi4 qing2 fang2 kong4 zhi3 hui1 bu4 zhi3 hui1 zhang3"),
        ("成为标杆", "cheng2 wei2 biao1 gan1"),
    ],
)
def test_polyphones_are_read_in_context(text: str, readings: str):
    assert " ".join(dictionary_readings(text)) == readings


@pytest.mark.parametrize(
    ("text", "syllables"),
    [
        ("不要", "bu2 yao4"),  # 不 before a fourth tone
        ("不同", "bu4 tong2"),
        ("一个", "yi2 ge4"),  # 一 before a fourth tone
        ("一天", "yi4 tian1"),  # 一 before the other tones
        ("第一", "di4 yi1"),  # ordinals and numbers keep yi1
        ("十一月一日", "shi2 yi1 yue4 yi1 ri4"),
        ("统一部署", "tong3 yi1 bu4 shu3"),  # 一 at the end of a word is not changed
        ("总理", "zong2 li3"),  # third tone before third tone
        ("展览", "zhan2 lan3"),
        ("好，好", "hao3 hao3"),  # a pause stops sandhi
    ],
)
def test_tone_sandhi(text: str, syllables: str):
    assert " ".join(spoken_syllables(text)) == syllables


def test_lexicon_file_with_pinyin_readings(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_text("单县\tshan4 xian4\t地名\n乐亭\tlao4 ting2\t地名\nWindows\twen1 dou3 si1\t\n", encoding="utf-8")
    lexicon = Lexicon.load(path)
    assert spoken_syllables(to_spoken("单县和乐亭", lexicon)) == ["shan4", "xian4", "he2", "lao4", "ting2"]
    assert spoken_syllables(to_spoken("windows系统", lexicon))[:3] == ["wen1", "dou3", "si1"]
    assert dictionary_readings(characters_for(["shan4", "xian4", "lv4", "zhong1"])) == ["shan4", "xian4", "lv4", "zhong1"]


@pytest.mark.parametrize(("spoken", "problem"), [("shan4 xiang9", "lexicon.tsv:1"), ("shan4 qqq4", "no Mandarin syllable qqq4")])
def test_lexicon_pinyin_errors_name_the_line_and_syllable(tmp_path, spoken: str, problem: str):
    path = tmp_path / "lexicon.tsv"
    path.write_text(f"单县\t{spoken}\t\n", encoding="utf-8")
    if spoken.endswith("9"):  # not pinyin at all: taken as characters, which the voice cannot say
        assert Lexicon.load(path).entries[0].spoken == spoken
        return
    with pytest.raises(ConfigError, match=problem):
        Lexicon.load(path)


def test_cli_pinyin_default_raw_and_stdin():
    runner = CliRunner()
    said = runner.invoke(app, ["pinyin", "总理说增长3%"])
    assert said.exit_code == 0, said.output
    assert said.output.split() == "zong2 li3 shuo1 zeng1 zhang3 bai3 fen1 zhi1 san1".split()
    raw = runner.invoke(app, ["pinyin", "--raw", "总理说增长3%"])
    assert raw.output.split() == "zong3 li3 shuo1 zeng1 zhang3".split()  # one syllable per Han character, as written
    lines = runner.invoke(app, ["pinyin"], input="银行\n长大\n")
    assert lines.output.splitlines() == ["yin2 hang2", "zhang3 da4"]


def test_the_parent_pronounces_and_a_worker_says_the_syllables_it_is_handed(monkeypatch):
    import pickle

    from briefing.engines import offline
    from briefing.engines.offline import OfflineEngine
    from briefing.voices import VoicePreset

    prepared = pickle.loads(pickle.dumps(OfflineEngine.prepare(["银行行长说，", "不要"])))  # as a worker gets its jobs
    assert prepared == {"银行行长说，": ["yin2", "hang2", "hang2", "zhang3", "shuo1"], "不要": ["bu2", "yao4"]}
    engine = OfflineEngine()

    def not_in_the_worker(text: str) -> list[str]:
        raise AssertionError(f"the worker pronounced {text!r} again")

    monkeypatch.setattr(offline, "spoken_syllables", not_in_the_worker)
    said = engine.synthesize("不要", VoicePreset(name="offline", engine="offline"), prepared["不要"])
    assert said.duration > 0.2 and said.words[0].text == "不要"


def test_cached_audio_follows_the_pronunciation_code():
    from briefing.engines.offline import OfflineEngine
    from briefing.pinyin import PRONUNCIATION_VERSION

    # The engine's version is part of every segment's cache key.
    assert OfflineEngine.version.endswith(PRONUNCIATION_VERSION) and len(PRONUNCIATION_VERSION) == 12


def test_the_shipped_syllable_table_matches_the_installed_dictionaries():
    """syllables.tsv saves start-up the second it takes to read three dictionaries; after an upgrade
    of any of them, every syllable must still be there and each character still read only so
    (else regenerate it: python -m briefing.pinyin)."""
    from briefing.pinyin import _unambiguous_characters, find_unambiguous_characters

    shipped, found = _unambiguous_characters(), find_unambiguous_characters()
    assert len(shipped) > 1000 and shipped.keys() == found.keys()
    stale = {syllable: char for syllable, char in shipped.items() if dictionary_readings(char) != [syllable]}
    assert not stale


def test_yi_between_a_verb_and_itself_is_neutral_and_other_yi_keep_their_sandhi():
    assert spoken_syllables("看一看") == ["kan4", "yi5", "kan4"]
    assert spoken_syllables("试一试") == ["shi4", "yi5", "shi4"]
    assert spoken_syllables("一看") == ["yi2", "kan4"] and spoken_syllables("第一天")[1] == "yi1"


def test_every_han_character_gets_a_reading_even_a_rare_one():
    runner = CliRunner()
    line = "南汉刘䶮称帝，䶮字少见"  # 䶮 is in CJK extension A
    raw = runner.invoke(app, ["pinyin", "--raw", line]).output.split()
    assert len(raw) == sum(1 for char in line if char not in "，") and raw[3] == "yan3" and raw[6] == "yan3"
    assert to_spoken("南汉刘䶮称帝") == "南汉刘眼称帝"  # said by every voice, as a common character read the same way
    assert spoken_syllables(to_spoken("刘䶮")) == ["liu2", "yan3"]
