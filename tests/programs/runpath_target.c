/* Found only through the opener's RUNPATH. */
int runpath_target_answer(void) {
  return 42;
}
