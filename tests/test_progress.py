import io
import logging

from neurodyn.progress import Progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_terminal_gets_a_bar_redrawn_in_place():
    s = _Tty()
    with Progress(total=4, desc="EM", stream=s, min_s=0.0) as bar:
        for i in range(4):
            bar.update(1, loglik=-float(i))
    out = s.getvalue()
    assert out.endswith("\n") and "\r" in out
    assert "EM [########################] 4/4" in out and "loglik=-3" in out


def test_logs_get_periodic_lines(caplog):
    s = io.StringIO()
    with caplog.at_level(logging.INFO, logger="neurodyn.progress"):
        with Progress(total=3, desc="HALS", stream=s, every_s=0.0, min_s=0.0) as bar:
            for _ in range(3):
                bar.update(1, err=0.5)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4  # one per update (every_s=0) and the final line
    assert lines[-1].startswith("HALS [") and "3/3" in lines[-1] and "err=0.5" in lines[-1]
    assert s.getvalue() == ""


def test_short_loops_stay_quiet(caplog):
    s = _Tty()
    with caplog.at_level(logging.INFO, logger="neurodyn.progress"):
        with Progress(total=3, desc="fast", stream=s) as bar:
            bar.update(3)
    assert s.getvalue() == "" and not caplog.records


def test_lines_say_how_far_and_the_time_left(caplog, monkeypatch):
    now = [0.0]
    monkeypatch.setattr("neurodyn.progress.time.perf_counter", lambda: now[0])
    with caplog.at_level(logging.INFO, logger="neurodyn.progress"):
        bar = Progress(total=4, desc="fits", stream=io.StringIO(), every_s=0.0, min_s=0.0)
        now[0] = 10.0
        bar.update(1)  # 1 of 4 after 10 s: 30 s left
        now[0] = 20.0
        bar.update(1)  # 2 of 4 after 20 s: 20 s left
    lines = [r.getMessage() for r in caplog.records]
    assert "fits [" in lines[0] and "1/4" in lines[0] and "~30s left" in lines[0]
    assert "2/4" in lines[1] and "~20s left" in lines[1]


def test_duration_format():
    from neurodyn.progress import format_duration

    assert [format_duration(s) for s in (5, 65, 3 * 3600 + 7 * 60)] == ["5s", "1m05s", "3h07m"]


def test_heartbeat_logs_while_one_item_runs_long(caplog):
    import time

    with caplog.at_level(logging.INFO, logger="neurodyn.progress"):
        with Progress(total=2, desc="communities", stream=io.StringIO(), every_s=0.05, min_s=0.0,
                      heartbeat=True) as bar:
            bar.update(1, component=0)
            time.sleep(0.5)  # the second item: no update for ten periods
            beats = len(caplog.records)
            bar.update(1, component=1)
    assert beats >= 3, beats  # lines came while nothing called update()
    assert all("communities [" in r.getMessage() for r in caplog.records)
    assert "component=0" in caplog.records[1].getMessage()
    assert caplog.records[-1].getMessage().split()[2] == "2/2"
    count = len(caplog.records)
    time.sleep(0.2)
    assert len(caplog.records) == count  # the thread stopped with the loop


def test_the_library_is_quiet_without_logging_configured(capsys):
    import subprocess
    import sys

    code = ("from neurodyn.progress import Progress\nimport time\n"
            "with Progress(3, 'x', every_s=0.0, min_s=0.0, heartbeat=True) as b:\n"
            "    [b.update(1) for _ in range(3)]\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stderr
