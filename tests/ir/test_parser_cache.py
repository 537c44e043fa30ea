"""Parser tables are kept on disk (Lark's cache) under $SPIKEC_CACHE_DIR/parsers, and the cached
parser parses as the built one does."""

from spikec.ir.expression_parser import expression_grammar_text, lalr_parser


def test_tables_are_cached_and_reloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEC_CACHE_DIR", str(tmp_path))
    built = lalr_parser(expression_grammar_text(), "expression")
    files = list((tmp_path / "parsers").glob("expression-*.lark"))
    assert len(files) == 1
    loaded = lalr_parser(expression_grammar_text(), "expression")
    text = "-v/tau + exp((13*mV - v)/(4*mV)) * (1 - m)"
    assert loaded.parse(text) == built.parse(text)


def test_no_file_when_disk_caches_are_off(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEC_CACHE_DIR", "off")
    monkeypatch.chdir(tmp_path)
    assert lalr_parser(expression_grammar_text(), "expression").parse("a + b") is not None
    assert list(tmp_path.iterdir()) == []


def test_connect_generator_tables_are_cached(tmp_path, monkeypatch):
    from spikec.frontend import connect_code
    monkeypatch.setenv("SPIKEC_CACHE_DIR", str(tmp_path))
    text = "k for k in sample(i - 3, i + 4, p=0.5) if k != i"
    connect_code._generator_parser.cache_clear()
    try:
        built = connect_code.parse_generator(text)
        assert len(list((tmp_path / "parsers").glob("generator-*.lark"))) == 1
        connect_code._generator_parser.cache_clear()  # a new process: tables from the file
        assert connect_code.parse_generator(text) == built
    finally:
        connect_code._generator_parser.cache_clear()
