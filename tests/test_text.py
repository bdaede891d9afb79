import numpy as np

from briefing.engines import SpeechAudio, WordBoundary
from briefing.mix import timed_lines
from briefing.text import count_han, has_cjk, is_han, split_clauses, split_sentences, strip_marks


def test_clauses_keep_their_marks_and_lose_nothing():
    text = "会议指出，要抓好春耕、夏种；确保粮食安全：稳产增收。"
    clauses = split_clauses(text)
    assert clauses == ["会议指出，", "要抓好春耕、", "夏种；", "确保粮食安全：", "稳产增收。"]
    assert "".join(clauses) == text
    assert split_clauses(text, "，；") == ["会议指出，", "要抓好春耕、夏种；", "确保粮食安全：稳产增收。"]
    assert split_clauses("，，好") == ["，，", "好"]


def test_sentences_and_character_classes():
    assert split_sentences("他说：“好。”我们走吧！真的？") == ["他说：“好。”", "我们走吧！", "真的？"]
    assert is_han("中") and not is_han("A") and not is_han("，")
    assert count_han("5G网络，覆盖全市") == 6 and has_cjk("abc㐀") and not has_cjk("abc")
    assert strip_marks("，好的。") == "好的"


def test_the_transcript_cuts_where_the_engine_reports_clauses():
    # The offline engine reports one timing per clause as split_clauses cuts it, '、' included;
    # the transcript must cut the written text the same way to use them.
    written = "春耕、夏种和秋收，三季都要抓好，一刻也不能放松。"
    spoken = written
    clauses = split_clauses(spoken)
    words, offset = [], 0.0
    for clause in clauses:
        words.append(WordBoundary(offset, 0.2 * len(clause), strip_marks(clause)))
        offset += 0.2 * len(clause) + 0.1
    audio = SpeechAudio(np.ones(int(offset * 100), dtype=np.float32), 100, tuple(words))
    lines = timed_lines(written, spoken, audio, max_chars=8)
    assert len(lines) > 1 and "".join(text for _, _, text in lines) == written
    assert [start for start, _, _ in lines] == sorted(start for start, _, _ in lines)


def test_printable_escapes_what_would_drive_or_reorder_a_terminal():
    from briefing.text import printable

    assert printable("标题\u202e反转\u200b\x1b[31m") == "标题\\u202e反转\\u200b\\x1b[31m"
    assert printable("普通的标题 (2026)") == "普通的标题 (2026)"
