/* The CSV field encoder: RFC 4180 quoting and the formula-injection guard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/csv.h"

/* One field, alone in its record, as written. */
static const char *field(lc_bytes_t *b, const char *s)
{
    lc_bytes_reset(b);
    assert_int_equal(lc_csv_field(b, s, true), 0);
    return b->len ? (const char *)b->data : "";
}

static void test_plain_text_is_written_as_is(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    assert_string_equal(field(&b, "Ada Lovelace"), "Ada Lovelace");
    assert_string_equal(field(&b, ""), "");
    assert_string_equal(field(&b, NULL), "");
    /* UTF-8 passes through byte for byte; a quote-free apostrophe needs nothing. */
    assert_string_equal(field(&b, "Zoë Ångström 李"), "Zoë Ångström 李");
    assert_string_equal(field(&b, "O'Brien; <script>"), "O'Brien; <script>");
    /* Only a leading sign is a formula: inside the text it is just text. */
    assert_string_equal(field(&b, "a=b+c-d@e"), "a=b+c-d@e");
    assert_string_equal(field(&b, " =1"), " =1");
    lc_bytes_free(&b);
}

static void test_quotes_commas_and_line_breaks_are_quoted(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    assert_string_equal(field(&b, "a,b"), "\"a,b\"");
    assert_string_equal(field(&b, "say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_string_equal(field(&b, "\""), "\"\"\"\"");
    assert_string_equal(field(&b, "\"\""), "\"\"\"\"\"\"");
    assert_string_equal(field(&b, "line\nbreak"), "\"line\nbreak\"");
    assert_string_equal(field(&b, "cr\rlf\r\n"), "\"cr\rlf\r\n\"");
    assert_string_equal(field(&b, "end\""), "\"end\"\"\"");
    lc_bytes_free(&b);
}

static void test_formulas_get_an_apostrophe(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    assert_string_equal(field(&b, "=1+1"), "'=1+1");
    assert_string_equal(field(&b, "+49 30 1234"), "'+49 30 1234");
    assert_string_equal(field(&b, "-2+3"), "'-2+3");
    assert_string_equal(field(&b, "@SUM(A1:A9)"), "'@SUM(A1:A9)");
    assert_string_equal(field(&b, "\t=cmd"), "'\t=cmd");
    /* Both at once: the apostrophe goes inside the quotes. */
    assert_string_equal(field(&b, "=HYPERLINK(\"http://x.example\",\"y\")"),
                        "\"'=HYPERLINK(\"\"http://x.example\"\",\"\"y\"\")\"");
    assert_string_equal(field(&b, "\r=1"), "\"'\r=1\"");
    assert_string_equal(field(&b, "-"), "'-");
    lc_bytes_free(&b);
}

static void test_fields_make_a_record(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    assert_int_equal(lc_csv_field(&b, "1", true), 0);
    assert_int_equal(lc_csv_field(&b, "a,b", false), 0);
    assert_int_equal(lc_csv_field(&b, "", false), 0);
    assert_int_equal(lc_csv_field(&b, "=x", false), 0);
    assert_int_equal(lc_bytes_append(&b, LC_CSV_EOL, 2), 0);
    assert_int_equal(b.len, strlen("1,\"a,b\",,'=x\r\n"));
    assert_memory_equal(b.data, "1,\"a,b\",,'=x\r\n", b.len);
    lc_bytes_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_is_written_as_is),
        cmocka_unit_test(test_quotes_commas_and_line_breaks_are_quoted),
        cmocka_unit_test(test_formulas_get_an_apostrophe),
        cmocka_unit_test(test_fields_make_a_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
