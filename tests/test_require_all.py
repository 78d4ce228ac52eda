"""``--require-all`` and ``CI=true`` (tests/conftest.py): every kind of skip fails the run,
and a plain run still only skips. Small projects run by pytester with our conftest's hooks."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

# Skips inside tests: a marker, a skip in the test, a skip in a fixture; and an xfail,
# which is an expected failure, not a skip.
TEST_LEVEL = {
    "test_kinds.py": '''
        import pytest

        @pytest.fixture
        def needs_node():
            pytest.skip("node is not installed")

        def test_runs():
            pass

        @pytest.mark.skip(reason="by a marker")
        def test_marked():
            pass

        def test_skips_itself():
            pytest.skip("in the test")

        def test_with_fixture(needs_node):
            pass

        @pytest.mark.xfail(reason="known", strict=True)
        def test_known_bug():
            assert False
    ''',
}

# Skips at import: a test module's importorskip, and a directory's conftest.py that skips
# as tests/managers/conftest.py does without the redis extra (the whole directory: "1 skipped").
COLLECTION_LEVEL = {
    "test_runs.py": "def test_runs():\n    pass\n",
    "test_module.py": '''
        import pytest
        pytest.importorskip("wsgi_sio_no_such_module_a")

        def test_never_collected():
            pass
    ''',
    "suite/__init__.py": "",
    "suite/conftest.py": '''
        import pytest
        pytest.importorskip("wsgi_sio_no_such_module_b", reason="the extra is not installed")
    ''',
    "suite/test_in_suite.py": "def test_in_suite():\n    pass\n",
}


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """``project(files, *args, ci=None)``: the run's result, with our conftest's hooks."""
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest('pytest_plugins = ["tests.conftest"]\n')

    def run(files: dict[str, str], *args: str, ci: str | None = None) -> pytest.RunResult:
        for name, text in files.items():
            path = pytester.path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        if ci is not None:
            monkeypatch.setenv("CI", ci)
        return pytester.runpytest("-p", "no:django", "-p", "no:cacheprovider", "-rs", *args)

    return run


@pytest.mark.parametrize("ci", [None, "false", ""], ids=["no CI", "CI=false", "CI="])
def test_a_plain_run_only_skips_in_tests(project, ci):
    result = project(TEST_LEVEL, ci=ci)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    result.stdout.fnmatch_lines_random(["SKIPPED*by a marker", "SKIPPED*in the test",
                                        "SKIPPED*node is not installed"])


@pytest.mark.parametrize("ci", [None, "false"], ids=["no CI", "CI=false"])
def test_a_plain_run_only_skips_modules_and_directories(project, ci):
    result = project(COLLECTION_LEVEL, ci=ci)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines_random(["SKIPPED*the extra is not installed",
                                        "SKIPPED*could not import 'wsgi_sio_no_such_module_a'*"])


@pytest.mark.parametrize("args, ci", [(["--require-all"], None), ([], "true"), ([], "TRUE"),
                                      ([], "1")], ids=["flag", "CI=true", "CI=TRUE", "CI=1"])
def test_skips_in_tests_fail_the_run(project, args, ci):
    result = project(TEST_LEVEL, *args, ci=ci)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # The marker and the fixture skip at setup (errors), the test skips in its call (failed);
    # the xfail stays an xfail.
    result.assert_outcomes(passed=1, failed=1, errors=2, xfailed=1)
    result.stdout.fnmatch_lines_random([
        "*allows no skip: by a marker*", "*allows no skip: in the test*",
        "*allows no skip: node is not installed*"])


@pytest.mark.parametrize("args, ci", [(["--require-all"], None), ([], "true")],
                         ids=["flag", "CI=true"])
def test_skipped_modules_and_directories_fail_the_run(project, args, ci):
    result = project(COLLECTION_LEVEL, *args, ci=ci)
    assert result.ret == pytest.ExitCode.INTERRUPTED   # errors during collection
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*ERROR collecting suite*",
                                 "*allows no skip: the extra is not installed"])
    result.stdout.fnmatch_lines(["*ERROR collecting test_module.py*",
                                 "*allows no skip: could not import 'wsgi_sio_no_such_module_a'*"])
