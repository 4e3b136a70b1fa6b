"""The scenario expression language: exact Decimal arithmetic over names, one comparison, and
nothing else (no eval, no calls, no attributes, no literals but plain decimals)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from harness.scenarios import ExpressionError, parse_expression, parse_template


def lookup_in(names: dict[str, object]):  # type: ignore[no-untyped-def]
    def lookup(name: str) -> object:
        if name not in names:
            raise ExpressionError(f"{name} is not known at this point")
        return names[name]

    return lookup


NAMES = lookup_in(
    {
        "rate": Decimal("0.001"),
        "quantity": Decimal(10),
        "svc.rate": "0.90",  # money from a panel arrives as text
        "svc.quantity": 1000,
        "paid": Decimal("0.00040"),
        "remains": "250",
        "status": "Pending",
        "other": "Pending",
        "listed": [1, 2],
        "flag": True,
        "zero": Decimal(0),
    }
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("-(rate * quantity / 1000)", Decimal("-0.00001")),
        ("0.1 + 0.2", Decimal("0.3")),
        ("2 + 3 * 4", Decimal(14)),
        ("(2 + 3) * 4", Decimal(20)),
        ("10 - 4 - 3", Decimal(3)),
        ("100 / 10 / 2", Decimal(5)),
        ("--1", Decimal(1)),
        ("+paid", Decimal("0.00040")),
        ("svc.rate * svc.quantity / 1000", Decimal("0.9")),
        ("paid * remains / 1000", Decimal("0.0001")),
        ("  1.50  ", Decimal("1.50")),
    ],
)
def test_arithmetic_is_exact_decimal(text: str, value: Decimal) -> None:
    result = parse_expression(text).value(NAMES)
    assert isinstance(result, Decimal)
    assert result == value


def test_division_keeps_sixty_digits_not_a_float() -> None:
    third = parse_expression("1 / 3").number(NAMES)
    assert str(third) == "0." + "3" * 60
    assert parse_expression("0.1 * 3").number(NAMES) == Decimal("0.3")


def test_a_bare_name_keeps_text_as_text() -> None:
    assert parse_expression("status").value(NAMES) == "Pending"
    assert parse_expression("remains").value(NAMES) == "250"
    assert parse_expression("remains").number(NAMES) == Decimal(250)


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("remains == 250", True),
        ("remains != 250", False),
        ("paid * 2 <= 0.0008", True),
        ("paid * 2 < 0.0008", False),
        ("svc.quantity > remains", True),
        ("zero >= 0", True),
        ("status == other", True),
        ("status != other", False),
        ("0.30 == 0.3", True),
    ],
)
def test_one_comparison(text: str, holds: bool) -> None:
    assert parse_expression(text, comparison=True).holds(NAMES) is holds


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "rate ** 2",
        "1e3",
        "rate[0]",
        "abs(rate)",
        "'text'",
        '"text"',
        "rate if flag else 0",
        "lambda: 1",
        "rate; quantity",
        "1 2",
        "(1 + 2",
        "1 + 2)",
        "1 +",
        "",
        "   ",
        "rate.",
        "0x10",
        "1,5",
        "${rate}",
        "(" * 40 + "1" + ")" * 40,
        "-" * 40 + "1",
    ],
)
def test_anything_outside_the_grammar_is_refused(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_expression(text)


def test_comparisons_only_where_one_is_expected() -> None:
    with pytest.raises(ExpressionError, match="only `that` takes a comparison"):
        parse_expression("remains == 0")
    with pytest.raises(ExpressionError, match="must compare two values"):
        parse_expression("remains", comparison=True)
    with pytest.raises(ExpressionError, match="unexpected '=='"):
        parse_expression("1 == 1 == 1", comparison=True)


def test_errors_name_the_column() -> None:
    with pytest.raises(ExpressionError, match="unexpected '\\*' at column 8"):
        parse_expression("rate * * 2")
    with pytest.raises(ExpressionError, match="unexpected '\\^' at column 6"):
        parse_expression("rate ^ 2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rate / zero", "division by zero"),
        ("missing + 1", "missing is not known"),
        ("status + 1", "status is 'Pending', not a number"),
        ("listed * 2", "listed is \\[1, 2\\], not a number"),
        ("flag + 0", "flag is True, not a number"),
    ],
)
def test_values_it_cannot_compute_with_are_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse_expression(text).value(NAMES)


def test_text_cannot_be_ordered() -> None:
    with pytest.raises(ExpressionError, match="cannot order"):
        parse_expression("status < other", comparison=True).holds(NAMES)


def test_explain_shows_each_side_and_the_names_inside() -> None:
    expression = parse_expression("paid * 2 == remains", comparison=True)
    assert expression.explain(NAMES) == (
        "paid * 2 = 0.00080; remains = '250'; with paid = 0.00040"
    )
    assert expression.names == frozenset({"paid", "remains"})


def test_templates_substitute_expressions() -> None:
    template = parse_template("https://x.test/${status}?q=${svc.quantity / 4}&p=${paid}")
    assert template.render(NAMES) == "https://x.test/Pending?q=250&p=0.00040"
    assert template.names == frozenset({"status", "svc.quantity", "paid"})
    assert template.literal is None
    assert parse_template("plain text").literal == "plain text"
    assert parse_template("${rate * 2500}").render(NAMES) == "2.500"  # decimals as computed
    assert parse_template("${quantity * 2.50}").render(NAMES) == "25"


def test_template_errors() -> None:
    with pytest.raises(ExpressionError, match="never closed"):
        parse_template("order ${order")
    with pytest.raises(ExpressionError):
        parse_template("${1 +}")
    with pytest.raises(ExpressionError, match="listed is \\[1, 2\\], not a number or text"):
        parse_template("${listed}").render(NAMES)
