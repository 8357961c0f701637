/* Replaced by the encoder sources. */
int kge_placeholder_(void);
int kge_placeholder_(void) { return 0; }
