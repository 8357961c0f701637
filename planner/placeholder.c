/* Replaced by the planner sources. */
int kgn_placeholder_(void);
int kgn_placeholder_(void) { return 0; }
