/* main() shared by the check suites that define Suite *suite(void): runs
 * every test of that suite and exits 0 when all passed, 1 otherwise. */
#include <check.h>
#include <stdlib.h>

Suite *suite(void);

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
