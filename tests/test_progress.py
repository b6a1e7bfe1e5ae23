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
