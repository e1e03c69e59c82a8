"""`download` and `datasets` on the command line: progress, --md5, help texts, not-found advice."""

import argparse
import io

import pytest

from tests.core.archive_server import ArchiveServer
from tests.core.cifar_fixtures import file_md5, make_archive, write_cifar10
from workbench.cli import build_parser, data_cmds, main


@pytest.fixture(autouse=True)
def homes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "workbench"))
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("WORKBENCH_CIFAR_MIRROR", raising=False)


@pytest.fixture
def archive(tmp_path):
    fake = write_cifar10(tmp_path / "src", n_train_per_batch=60, n_test=60, seed=4)
    path = make_archive(fake.folder, tmp_path / "served" / "cifar-10-python.tar.gz")
    return fake, path.read_bytes(), file_md5(path)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_download_from_a_mirror_with_its_md5(tmp_path, archive, capsys):
    _, payload, md5 = archive
    with ArchiveServer(payload) as server:
        rc = main(["download", "cifar10", "--data-dir", str(tmp_path / "dl"), "--url", server.url(), "--md5", md5])
    out, err = capsys.readouterr()
    assert rc == 0 and f"ready in {tmp_path / 'dl' / 'cifar-10-batches-py'}" in out
    assert err.endswith("\n") and "MB" in err  # plain progress lines in a log, each ended


def test_progress_line_is_ended_before_the_error(tmp_path, archive, monkeypatch, capsys):
    _, payload, _ = archive
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with ArchiveServer(payload) as server:  # not the official archive: its checksum fails
        rc = main(["download", "cifar10", "--data-dir", str(tmp_path / "dl"), "--url", server.url()])
    err = terminal.getvalue()
    assert rc == 1 and "checksum" in err
    assert "\nerror: " in err and "[" in err  # a bar was drawn, and the error starts its own line
    assert "MB/s" in err.split("\nerror: ")[0]


def test_wrong_md5_from_a_mirror_is_refused(tmp_path, archive, capsys):
    _, payload, _ = archive
    with ArchiveServer(payload) as server:
        rc = main(["download", "cifar10", "--data-dir", str(tmp_path / "dl"), "--url", server.url(),
                   "--md5", "0" * 32])
    err = capsys.readouterr().err
    assert rc == 1 and "expected 00000000000000000000000000000000" in err
    assert not (tmp_path / "dl" / "cifar-10-batches-py").exists()


@pytest.mark.parametrize("extra, words", [
    (["--md5", "abc"], "--md5 must be 32 hexadecimal digits"),
    (["--md5", "a" * 32], "give the mirror with --url"),
])
def test_bad_md5_use_is_a_usage_error(tmp_path, capsys, extra, words):
    rc = main(["download", "cifar10", "--data-dir", str(tmp_path / "dl"), *extra])
    err = capsys.readouterr().err
    assert rc == 2 and words in err and err.count("\n") == 1
    assert not (tmp_path / "dl").exists()


def test_every_datasets_and_download_option_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("datasets", "download"):
        for action in sub.choices[command]._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"{command} {action.dest} has no help text"


def test_missing_dataset_is_explained_in_cli_terms(tmp_path, monkeypatch, capsys):
    from workbench.core.datasets import load_dataset

    # A command that needs the data, as evaluate does, routed through the CLI's one error handler.
    monkeypatch.setattr(data_cmds, "cmd_datasets", lambda args: load_dataset("cifar10", args.data_dir) and 0)
    rc = main(["datasets", "--data-dir", str(tmp_path / "empty")])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error: CIFAR-10 was not found")
    assert "download=True" not in err
    assert "`workbench download cifar10` or pass --download" in err and err.count("\n") == 1
