/* kgpath command-line tool: global options and dispatch to the command
 * table. Commands live in src/cli_*.c (see src/cli.h for the contract). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "kgpath.h"
#include "cli.h"
#include "cli_util.h"

/* The command table: one line per command, in the order `--help` lists them. */
const kgp_cli_command kgp_cli_commands[] = {
    {"import", cmd_import, "Import course files into the database",
     "usage: kgpath import [--dry-run] [--no-schema] [--include-drafts] [--encoding NAME]\n"
     "                     [--replace | --as ID] [--course-order required|recommended]\n"
     "                     [--json] PATH...\n"
     "Imports every course in the PATHs (kgxml or CSV files; OLX, SCORM, IMS CC\n"
     "or Moodle folders and archives) in one transaction: all land or nothing\n"
     "changes. The same course imported again replaces the stored one; a\n"
     "different course with the same id is refused (exit 5). References to\n"
     "courses not yet imported are kept and resolved when that course arrives.\n"
     "  -n, --dry-run       check and resolve everything, write nothing\n"
     "  --no-schema         skip RELAX NG validation of kgxml files\n"
     "  --include-drafts    OLX: import drafts/ too\n"
     "  --encoding NAME     CSV files are in NAME (GBK, ISO-8859-1, UTF-16, ...;\n"
     "                      default UTF-8, UTF-16 when it starts with a BOM)\n"
     "  --replace           replace stored courses of the same id even when\n"
     "                      they are other courses\n"
     "  --as ID             store the one imported course under ID\n"
     "  --course-order required|recommended\n"
     "                      required: every plan, next and batch follows the\n"
     "                      authored order of these courses (as plan\n"
     "                      --follow-course-order); recommended (default): not\n"
     "  --json              print the report as JSON\n"},
    {"show", cmd_show, "Show a concept: text, goals, time, prerequisites, dependents",
     "usage: kgpath show [--json] CONCEPT\n"
     "CONCEPT is course:id, an id unique across courses, or a title\n"
     "(case-insensitive). An ambiguous name lists the candidates (exit 4).\n"},
    {"stats", cmd_stats, "Summarise the database",
     "usage: kgpath stats [--json]\n"
     "Counts of courses, concepts, requirement groups, edges and unresolved\n"
     "references, per course and in all.\n"},
    {"export", cmd_export, "Export the graph as JSON, Graphviz dot, GraphML or an SVG map",
     "usage: kgpath export [--format json|dot|graphml|svg] [-o FILE]\n"
     "                     [--course ID] [--unit ID] [--tag TAG] [--rankdir LR|TB]\n"
     "  -f, --format  json (default; the versioned interface, see README),\n"
     "                dot, graphml, or svg: the curriculum map laid out by\n"
     "                Graphviz, check findings highlighted (cycles, redundant\n"
     "                edges, bottlenecks)\n"
     "  -o, --output  write to FILE instead of standard output\n"
     "  --course, --unit, --tag  (svg) map only these concepts\n"
     "  --rankdir     (svg) LR (default: left to right) or TB\n"},
    {"encode", cmd_encode, "Embed texts with a BERT model (one JSON line per text)",
     "usage: kgpath encode [--model DIR] [--pooling mean|cls|pooler] [--normalize] [TEXT...]\n"
     "Embeds each TEXT (or each line of standard input when none is given) and\n"
     "prints {\"text\":..., \"tokens\":[...], \"embedding\":[...]} per line.\n"
     "  -m, --model DIR   a Hugging Face BERT folder (config.json, vocab.txt,\n"
     "                    model.safetensors); default $KGPATH_MODEL. Get one with\n"
     "                    git clone https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2\n"
     "  -p, --pooling     mean (default, as sentence-transformers), cls, or pooler\n"
     "  -n, --normalize   L2-normalise the embeddings\n"},
    {"embed", cmd_embed, "Embed every concept's text and store the vectors",
     "usage: kgpath embed [--model DIR] [--force] [--json]\n"
     "Embeds title, summary and goals of each concept whose text or model\n"
     "changed since the last run (all with --force), in batches, and stores\n"
     "the vectors in the database with the model's identity.\n"
     "  -m, --model DIR   a Hugging Face BERT folder; default $KGPATH_MODEL, else the\n"
     "                    encoder of DB.kgmodel (written by `kgpath train`)\n"},
    {"search", cmd_search, "Concepts nearest in meaning to a text",
     "usage: kgpath search [--model DIR] [--top K] [--json] TEXT...\n"
     "Ranks the embedded concepts by cosine similarity to TEXT (run\n"
     "`kgpath embed` with the same model first).\n"
     "  -m, --model DIR   the model the concepts were embedded with\n"
     "  -k, --top K       how many (default 10)\n"},
    {"similar", cmd_similar, "Concepts nearest to a concept, across courses",
     "usage: kgpath similar [--top K] [--json] CONCEPT\n"
     "Ranks the other concepts by cosine similarity of their stored vectors\n"
     "(candidates for aligning courses).\n"
     "  -k, --top K       how many (default 10)\n"},
    {"batch", cmd_batch, "Plan for many learners (JSON lines), on N threads or Slurm shards",
     "usage: kgpath batch --learners FILE|- --out FILE|DIR|- [OPTIONS] [PLAN OPTIONS]\n"
     "One JSON line per learner in, one plan (kgpath plan --format json, with\n"
     "\"line\" and \"learner\" first) or error record per learner out, in input\n"
     "order. A failing learner gives an error record and the run goes on.\n"
     "  -l, --learners FILE  {\"learner\":\"u42\",\"goals\":[...],\"known\":[...],...}\n"
     "  -o, --out PATH       output file, directory (part-NNNNNN.jsonl files; a\n"
     "                       path ending in / or an existing directory) or -\n"
     "  -t, --threads N      worker threads (default: the CPUs available)\n"
     "  --shard I/N          only learners whose id hashes to shard I of N\n"
     "                       (default: SLURM_ARRAY_TASK_ID/_COUNT/_MIN when set)\n"
     "  --since TIME         recompute only learners with new events or whose\n"
     "                       goals' prerequisites changed after TIME (Unix seconds,\n"
     "                       YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)\n"
     "  --resume             continue an interrupted run into the same --out\n"
     "  --chunk N            lines per committed chunk (default 256)\n"
     "  --progress MODE      auto (bar on a terminal), bar, json or none\n"
     "  --report FILE        write the summary as JSON to FILE\n"
     "  --read-only          open the database read-only (no change stamps)\n"
     "  --fail-on-errors     exit 2 when any learner got an error record (default:\n"
     "                       exit 0, with a count of error records on stderr)\n"
     "Plan options, used for learners whose line lacks them:\n"
     "  --minutes-per-day N --days-per-week N --start DATE --deadline DATE\n"
     "  --budget-minutes N --include-recommended --default-minutes N\n"
     "  --follow-course-order\n"
     "  --date TIME --retention R   learner state (from kgpath observe) at TIME\n"
     "  --defaults JSON      any of the learner keys as one JSON object\n"},
    {"batch-merge", cmd_batch_merge, "Merge batch outputs of Slurm shards into input order",
     "usage: kgpath batch-merge [-o FILE] [--report FILE] SHARD-OUTPUT...\n"
     "Merges `kgpath batch` outputs of disjoint shards into one file in input\n"
     "order; fails when an input is not batch output or two shards overlap.\n"
     "  -o, --out FILE  the merged output (default standard output)\n"
     "  --report FILE   the merge's counts as JSON (plans, errors, inputs, ...),\n"
     "                  written whole or not at all\n"},
    {"snapshot-copy", cmd_snapshot_copy, "Write a compact copy of the database (for cluster nodes)",
     "usage: kgpath snapshot-copy [--stamp] DEST\n"
     "Copies the database's committed state to DEST (LMDB compact copy, written\n"
     "to DEST.tmp and renamed). Cluster tasks copy the database to node-local\n"
     "disk this way and open the copy with --read-only.\n"
     "  --stamp   first renew the change stamps that batch --since reads\n"},
    {"plan", cmd_plan, "Plan a study path to goals: ordered, timed, explained",
     "usage: kgpath plan --goal CONCEPT [--goal ...] [OPTIONS]\n"
     "Plans the concepts to study, in order, from what is known to the goals:\n"
     "required prerequisites, k-of-n groups resolved by least total time,\n"
     "each step with its minutes and why it is there.\n"
     "  -g, --goal CONCEPT       a goal (course:id, unique id or title); repeatable\n"
     "  --goal-text TEXT         the concept nearest in meaning to TEXT is a goal\n"
     "                           (needs `kgpath embed`; the choice is printed)\n"
     "  --model DIR              text model for --goal-text (default $KGPATH_MODEL, else\n"
     "                           DB.kgmodel)\n"
     "  -k, --known CONCEPT      a concept already known; repeatable\n"
     "  --known-file FILE        known concepts, one per line ('#' comments)\n"
     "  --learner ID             plan with a learner's state (observe): known\n"
     "                           concepts skipped, faded ones reviewed on the day\n"
     "                           they are needed, spaced reviews with a calendar,\n"
     "                           known goals reported as mastered\n"
     "  --date YYYY-MM-DD        plan date: the learner's state then; first study\n"
     "                           day unless --start (default today, UTC)\n"
     "  --retention R            learner's retention target (default 0.9)\n"
     "  --mastery P              learner's mastery threshold P(L) (default 0.95)\n"
     "  --review-days N          spaced reviews until N days after the last lesson\n"
     "                           (default 0: until the last lesson)\n"
     "  --budget-minutes N       plan only the goals that fit in N minutes\n"
     "  --minutes-per-day N      pack steps into study days (default 60 when\n"
     "                           --start or --deadline is given)\n"
     "  --days-per-week N        study days per week, Monday first (default 7)\n"
     "  --start YYYY-MM-DD       first study day (default today, UTC)\n"
     "  --deadline YYYY-MM-DD    report whether the plan fits, or the overrun\n"
     "  --include-recommended    also plan recommended concepts\n"
     "  --follow-course-order    within each course every concept also requires the\n"
     "                           one authored before it\n"
     "  --default-minutes N      minutes of a concept without estimate (30)\n"
     "  -f, --format FMT         text (default), json, dot or html\n"
     "  -o, --output FILE        write to FILE instead of standard output\n"
     "Exit: 0 ok, 1 usage, 3 unknown concept, 4 ambiguous, 5 goal known or\n"
     "unreachable (cycle, unsatisfiable group) or no goal fits the budget,\n"
     "8 --known-file cannot be read.\n"},
    {"next", cmd_next, "List what can be studied now (the outer fringe), ranked",
     "usage: kgpath next [--goal CONCEPT ...] [--known CONCEPT ...] [--known-file FILE]\n"
     "                   [--learner ID [--date D] [--retention R] [--mastery P]] [--limit N]\n"
     "                   [--follow-course-order] [--json]\n"
     "Concepts not known whose requirements are all met by known ones, ranked\n"
     "by goals served (with --goal: only what the goals need), then by how\n"
     "many concepts they unlock.\n"
     "  -g, --goal CONCEPT   restrict to what serves this goal; repeatable\n"
     "  -k, --known CONCEPT  a known concept; repeatable\n"
     "  --known-file FILE    known concepts, one per line\n"
     "  --learner ID         a learner's known set, and the reviews due (fading)\n"
     "  --date YYYY-MM-DD    the learner's state on that day (default now)\n"
     "  --retention R        learner's retention target (default 0.9)\n"
     "  --mastery P          learner's mastery threshold P(L) (default 0.95)\n"
     "  -n, --limit N        show the best N (default 10, 0 = all)\n"
     "  --follow-course-order  only the next concept of each course's authored\n"
     "                       sequence can be ready (as in plan)\n"
     "  -f, --format FMT     text (default) or json\n"},
    {"check", cmd_check, "Curriculum report: cycles, redundant edges, orphans, metrics",
     "usage: kgpath check [--json] [--strict] [--suspicious [--checkpoint DIR] [--course C] [--top K]]\n"
     "Cycles (by title), redundant transitive prerequisites, dangling\n"
     "cross-course references, orphans, concepts unreachable from the entry\n"
     "points, blocking/delay/structural complexity per concept, bottlenecks.\n"
     "  -f, --format FMT  text (default) or json\n"
     "  --strict          exit 2 when there are cycles, dangling references or\n"
     "                    unreachable concepts\n"
     "  --suspicious      also list the existing edges a trained model (`kgpath train`)\n"
     "                    scores lowest, flagging those that may point the wrong way\n"
     "                    (as `suggest --suspicious`; JSON: under \"suspicious\")\n"
     "  -m, --checkpoint DIR  the model (default $KGPATH_CHECKPOINT, else DB.kgmodel)\n"
     "  -c, --course C    suspicious edges of one course only\n"
     "  -k, --top K       at most K suspicious edges (20; 0: all)\n"},
    {"observe", cmd_observe, "Record learner events (JSON lines or xAPI)",
     "usage: kgpath observe [--strict] [--dry-run] [--no-fit] [--json] FILE|-...\n"
     "Reads learner events, one JSON object per line\n"
     "  {\"learner\":\"u42\",\"concept\":\"ml:gd\",\"kind\":\"read|quiz|review\",\n"
     "   \"at\":\"2026-11-28T10:15:00Z\",\"dwell_seconds\":540,\"score\":0.8,\"grade\":3}\n"
     "or xAPI statements (one per line, an array, or an LRS response), and stores\n"
     "them; the same event twice counts once, order does not matter. Malformed\n"
     "lines are reported (file:line:column) and skipped; exit status 2 then.\n"
     "When the events have grown by a fifth since the last fit (and number at\n"
     "least 100), the learner models are fitted again, as kgpath fit does.\n"
     "  --strict      any malformed line: store nothing\n"
     "  -n, --dry-run check only\n"
     "  --no-fit      never refit here (fit on your own schedule)\n"},
    {"learner", cmd_learner, "Show a learner's mastery and memory per concept",
     "usage: kgpath learner [ID] [--at DATE] [--retention R] [--mastery M] [--json]\n"
     "       kgpath learner forget ID\n"
     "Without ID, lists the learners. With ID: mastered, fading (retrievability\n"
     "below the target), learning, not started, from BKT and FSRS-6.\n"
     "  --at DATE        state on DATE (YYYY-MM-DD or ISO 8601; default now)\n"
     "  -r, --retention  desired retention (default 0.9)\n"
     "  --mastery M      BKT mastery threshold (default 0.95)\n"
     "forget ID erases every event of the learner (and the learner) for good.\n"},
    {"fit", cmd_fit, "Fit BKT, FSRS-6 and minutes from all learners' events",
     "usage: kgpath fit [--dry-run] [--per-learner] [--json]\n"
     "       kgpath fit --if-due [--dry-run] [--json]\n"
     "Estimates BKT parameters per concept by EM (one learner in five held out;\n"
     "held-out log-likelihood reported against the defaults), fits the FSRS-6\n"
     "memory weights to the graded reviews (held-out log loss and RMSE(bins)\n"
     "beside the defaults'; --per-learner: also a first-stability factor per\n"
     "learner with 64+ reviews, shrunk towards the population and judged on\n"
     "held-out learners), calibrates minutes from reading dwell (median, at\n"
     "least 5 learners) and review minutes from review dwell, and fits the\n"
     "prerequisite strength (how a lesson's success falls with its prerequisites'\n"
     "recall; 50+ lessons). Stores the fit for `learner` and plans unless\n"
     "--dry-run.\n"
     "--if-due: only when a fit is due, as `observe` decides (100+ events and\n"
     "none recorded, or a fifth more than at the last fit), with the recorded\n"
     "fit's options; otherwise says how many events it waits for (with\n"
     "--dry-run: whether one is due, reading only). For a nightly job before\n"
     "its plans, and after `observe --no-fit` loads.\n"},
    {"train", cmd_train, "Learn prerequisites from the curriculum: fine-tune BERT + graph attention",
     "usage: kgpath train [--out DIR] [--model DIR | --resume DIR] [--force] [--course C] [--mode M]\n"
     "                    [--steps N] [--lr X] [--head-lr X] [--val F] [--patience N] [--max-tokens N]\n"
     "                    [--batch N] [--enc-batch N] [--dropout P] [--seed S] [--threads N] [--log FILE]\n"
     "                    [--mlm] [--vocab-size N] [--views P] [--save-every N] [--json]\n"
     "       kgpath train --resume DIR.part [--out DIR]\n"
     "Trains prerequisite link prediction on the concepts' text and the existing\n"
     "requirement edges (negatives: random pairs, reversed edges, pairs two hops\n"
     "apart, and the suggestions designers rejected when there are enough), in C,\n"
     "and writes a checkpoint folder (a Hugging Face BERT folder plus graph\n"
     "attention, decoder, adapters, training state, the calibration fitted on\n"
     "held-out edges: the model's score stacked with a structural regression, and\n"
     "a record of the graph). With no options it trains the small model from\n"
     "scratch into DB.kgmodel beside the database, and says so and reuses that\n"
     "checkpoint when the graph and options are unchanged.\n"
     "  -m, --model DIR     BERT folder to start from (default $KGPATH_MODEL; neither:\n"
     "                      the small model from scratch, --mode head)\n"
     "  --resume DIR.part   continue an interrupted run (Ctrl-C or SIGTERM saves it as\n"
     "                      OUT.part and exits 75): on its course, options and steps,\n"
     "                      ending as the uninterrupted run would; writes DIR (--out)\n"
     "  --save-every N      also save OUT.part every N steps (default: every 10 minutes;\n"
     "                      0: only on a signal)\n"
     "  -o, --out DIR       checkpoint folder to write (default DB.kgmodel), replaced whole\n"
     "  -c, --course C      train on course C's concepts and edges only (default: all)\n"
     "  --force             train even when the graph and options are unchanged\n"
     "  --mode M            full fine-tuning (default with a model), lora (adapters on\n"
     "                      query/value, base frozen) or head (encoder frozen; default\n"
     "                      from scratch)\n"
     "  --steps N           optimiser steps (200); warm-up 10%, then linear decay\n"
     "  --lr X, --head-lr X peak learning rates: encoder (5e-5; lora 1e-3), heads (2e-3)\n"
     "  --val F             fraction of edges held out for validation (0.1)\n"
     "  --patience N        stop after N validations without improvement (0: never)\n"
     "  --max-tokens N      tokens per concept text, [CLS] and [SEP] included (32)\n"
     "  --batch N           positive edges per optimiser step (32)\n"
     "  --enc-batch N       concepts re-encoded per step (64; the others use cached\n"
     "                      embeddings; 0: all)\n"
     "  --dropout P         hidden and attention dropout (0.1; 0: none)\n"
     "  --seed S            seeds the split, negatives and initialisation (1): a seed\n"
     "                      and a thread count give the same checkpoint every time\n"
     "  --threads N         threads (default $OPENBLAS_NUM_THREADS, else every core)\n"
     "  --log FILE          per-step metrics as JSON lines (plot: tools/plot_loss.py);\n"
     "                      written as FILE.tmp-XXXXXX, renamed over FILE at the end\n"
     "  --mlm               masked-LM pre-training on the concepts' text instead; writes\n"
     "                      a BERT folder to pass as --model to a link-prediction run\n"
     "  --vocab-size N      from scratch: a WordPiece vocabulary of at most N pieces\n"
     "                      (2000) trained on the concepts' text, and a small BERT\n"
     "  --views P           augmentation (full/lora): a concept encoded for a step reads\n"
     "                      its title alone or its summary alone with probability P\n"},
    {"suggest", cmd_suggest, "Propose missing prerequisite edges with scores, for review",
     "usage: kgpath suggest [--checkpoint DIR] [--course C] [--min-score S] [--top K] [--json]\n"
     "       kgpath suggest [--checkpoint DIR] --pairs FILE|- [--prior P|auto]\n"
     "       kgpath suggest [--checkpoint DIR] --suspicious [--course C] [--top K]\n"
     "       kgpath suggest [--checkpoint DIR] [--course C] [--min-score S] [--top K] --accept [--more] [-n]\n"
     "       kgpath suggest [--checkpoint DIR] --accept-pairs FILE|- [-n]\n"
     "       kgpath suggest [--checkpoint DIR] --reject-pairs FILE|- [--reason TEXT] [-n]\n"
     "       kgpath suggest --rejected [--course C] [--json]\n"
     "       kgpath suggest --unreject-pairs FILE|- [-n]\n"
     "Scores every ordered pair of concepts the graph does not order yet (neither\n"
     "comes before the other, transitively) and no designer rejected, with the\n"
     "model `kgpath train` wrote, and prints prerequisite, concept, probability\n"
     "and the nearest existing evidence (the concept's current prerequisite most\n"
     "like the proposed one), best first.\n"
     "  -m, --checkpoint DIR  checkpoint folder (default $KGPATH_CHECKPOINT, else DB.kgmodel)\n"
     "  --course C            only pairs within course C (the list, --suspicious,\n"
     "                        --accept, --rejected); scoring always sees every course\n"
     "  --min-score S         lowest calibrated probability shown (0.5)\n"
     "  -k, --top K           at most K pairs (20; 0: all)\n"
     "  --pairs FILE|-        score given 'prerequisite<TAB>concept' lines (ids or titles)\n"
     "                        and print them with a third column, the probability\n"
     "  --prior P             with --pairs: the share of prerequisites among the listed\n"
     "                        pairs, if known (default: as among the reviewed pairs, the\n"
     "                        edges and rejections, when `train` had one rejection per\n"
     "                        edge or more; else 0.5); moves the probabilities, not the order\n"
     "  --prior auto          with --pairs: estimate that share from the list's own scores\n"
     "                        (EM; 50 pairs or more, else the default) and score at it; for\n"
     "                        long lists of every pair of a domain, few of them prerequisites\n"
     "  --suspicious          existing edges the model scores lowest (each scored without\n"
     "                        itself as context), flagging those it scores higher reversed\n"
     "  --accept              write the shown suggestions into the database as recommended\n"
     "                        edges, reason \"suggested by model DIR, score S\"; those that\n"
     "                        exist or contradict the graph's order are skipped with a warning;\n"
     "                        once it has written in the scope, it writes nothing more\n"
     "  --more                with --accept: take the next best suggestions all the same\n"
     "  --accept-pairs FILE|- write a reviewed list ('prerequisite<TAB>concept' lines, extra\n"
     "                        columns ignored, so edited `suggest` output works) the same way;\n"
     "                        any bad line (unknown, existing requirement, cycle, repeated)\n"
     "                        refuses them all; a pair already accepted is left as it is\n"
     "  --reject-pairs FILE|- remember a designer's no to the listed pairs (same lines as\n"
     "                        --accept-pairs): never suggested again, and `train` uses them\n"
     "                        as labelled negatives; any bad line refuses them all\n"
     "  --reason TEXT         with --reject-pairs: kept with each rejection\n"
     "  --rejected            list the rejections (time, model score, reason, whether ignored)\n"
     "  --unreject-pairs FILE|- take rejections back\n"
     "  -n, --dry-run         with --accept/--accept-pairs/--reject-pairs/--unreject-pairs:\n"
     "                        check only, write nothing\n"},
    {"align", cmd_align, "Likely-identical concepts across two courses (candidates to merge)",
     "usage: kgpath align [--checkpoint DIR] [--min-sim S] [--json] COURSE_A COURSE_B\n"
     "Pairs each concept of COURSE_A with its nearest concept of COURSE_B in the\n"
     "trained model's graph-contextual embedding space and prints the pairs that\n"
     "are mutual nearest neighbours with cosine similarity at least S, most\n"
     "similar first.\n"
     "  -m, --checkpoint DIR  checkpoint folder (default $KGPATH_CHECKPOINT, else DB.kgmodel)\n"
     "  --min-sim S           lowest similarity shown (0.8)\n"},
    {"eval-prereq", cmd_eval_prereq, "Benchmark prerequisite prediction on public datasets vs baselines",
     "usage: kgpath eval-prereq [--model DIR] [--mode head|lora|full] [--steps N] [--folds N]\n"
     "                          [--tokens N] [--seed S] [--datasets DIR] [--definitions FILE] DATASET\n"
     "       kgpath eval-prereq [train options] [--prior P|auto] --csv COURSE.csv --pairs LABELLED.tsv\n"
     "       kgpath eval-prereq [--seed S] [--folds N] --write-folds DIR DATASET\n"
     "Measures what `kgpath train` then `kgpath suggest --pairs` give, on the user's\n"
     "path: per fold the known graph is imported as a course (CSV; training negatives\n"
     "as rejected suggestions) into a fresh database, trained with the same options\n"
     "and defaults, and the test pairs scored (suggest --pairs --prior P, P the test\n"
     "pairs' share of prerequisites); beside it, on the same graph: transitivity\n"
     "(1 / shortest path), precedes count (concepts the candidate already precedes),\n"
     "a logistic regression on structural features and out-degree (concepts the\n"
     "candidate is a direct prerequisite of), each calibrated on its\n"
     "training pairs and moved to P as kgpath is. Prints, for every method, F1,\n"
     "precision and recall at 0.5 and ECE (cuts from training data only), the F1 at\n"
     "the best threshold on the test pairs (an upper bound) and ROC-AUC, per fold,\n"
     "then mean and sd.\n"
     "DATASET: refd-cs, refd-math, lecturebank (its 5 published folds) or metacademy\n"
     "(20% of edges held out, one seed per fold), found under --datasets DIR\n"
     "(default $KGPATH_DATASETS, else ../shared/datasets); or a path: a RefD-style\n"
     "PREFIX with PREFIX.edges and PREFIX.edges_neg ('concept<TAB>prerequisite'\n"
     "lines), a LectureBank 2.0 data folder or a Metacademy folder.\n"
     "--csv FILE --pairs FILE: any course file as the known graph and labelled pairs\n"
     "('prerequisite<TAB>concept<TAB>1|0', ids or titles) to score, as bare\n"
     "`suggest --pairs` scores them (--prior P|auto: as `suggest --pairs --prior P|auto`).\n"
     "--write-folds DIR: trains nothing; writes each fold of DATASET as a user's\n"
     "files, DIR/foldF.csv (the known graph, no rejections) and DIR/foldF.tsv (its\n"
     "labelled test pairs), the input of --csv and --pairs.\n"
     "  -m, --model DIR, --mode M, --steps N, --tokens N, --threads N: as `kgpath train`\n"
     "  --folds N           folds (5)\n"
     "  --seed S            folds and training (1)\n"
     "  --definitions FILE  LectureBank: JSON lines {topic_id, generated_definition}\n"
     "                      added to the topic names as text\n"},
    {"serve", cmd_serve, "Serve the JSON API, xAPI intake and the studio over HTTP",
     "usage: kgpath serve [--listen ADDR:PORT] [--threads N] [--tls-cert F --tls-key F]\n"
     "                    [--token-file F] [OPTIONS]\n"
     "Serves the database over HTTP (libmicrohttpd): the JSON API under /v1/\n"
     "(described at /v1/openapi.json), xAPI statements at /xapi/statements, the\n"
     "studio at /studio/, /healthz and /metrics. Requests need a bearer token\n"
     "(`kgpath token create --scope ...`). SIGTERM or SIGINT: finish the requests\n"
     "in flight, then stop.\n"
     "  -l, --listen ADDR:PORT  address (default 127.0.0.1:8080; port 0: any free)\n"
     "  -t, --threads N         worker threads (default 2)\n"
     "  --tls-cert F --tls-key F  serve HTTPS with this PEM certificate and key\n"
     "  --token-file F          also accept the tokens of F ('TOKEN SCOPES [NAME]'\n"
     "                          lines; mode 600)\n"
     "  --no-auth               no tokens needed (loopback addresses only)\n"
     "  --max-body N            largest request body in bytes (default 64 MiB)\n"
     "  --max-header N          request line + headers in bytes (default 32 KiB)\n"
     "  --max-connections N     open connections (default 256)\n"
     "  --timeout S             close a connection idle or stalled S seconds (30)\n"
     "  --cors-origin ORIGIN    allow browser calls from ORIGIN ('*': any); default off\n"
     "  --access-log FILE|-|none  Combined Log Format (default - : stdout)\n"
     "  --port-file F           write the bound port to F once listening\n"
     "  --drain S               at SIGTERM, wait at most S seconds for requests (30)\n"
     "  -m, --checkpoint DIR    model of /v1/suggestions, /v1/search (default\n"
     "                          $KGPATH_CHECKPOINT, else DB.kgmodel of `kgpath train`)\n"},
    {"token", cmd_token, "Create, list and revoke access tokens of kgpath serve",
     "usage: kgpath token create --scope SCOPE[,SCOPE...] [--name NAME] [--json]\n"
     "       kgpath token list [--json]\n"
     "       kgpath token revoke ID\n"
     "Tokens let clients call `kgpath serve` (Authorization: Bearer TOKEN). Only\n"
     "a digest is stored: the token is printed once, at creation.\n"
     "  --scope SCOPE,...  what the token may do (below); required with create\n"
     "  --name NAME        a label shown by `token list` (who or what holds it)\n"
     "Scopes: read (graph), plan (plan, next), learner (events, learner state,\n"
     "xAPI), write (import, suggestion review), admin (all, and erasure).\n"},
    /* Other command families add their lines here. */
    {NULL, NULL, NULL, NULL}
};

static void print_usage(FILE *f)
{
    fprintf(f,
        "usage: kgpath [--db PATH] COMMAND [ARGS...]\n"
        "       kgpath --help | --version | COMMAND --help\n\n"
        "Course knowledge graphs and study-path planning.\n\n"
        "Commands:\n");
    for (const kgp_cli_command *c = kgp_cli_commands; c->name; c++)
        fprintf(f, "  %-14s %s\n", c->name, c->summary);
    fprintf(f,
        "\nGlobal options (before or after the command):\n"
        "  --db PATH   database file (default: $KGPATH_DB, else\n"
        "              $XDG_DATA_HOME/kgpath/kgpath.db, else\n"
        "              ~/.local/share/kgpath/kgpath.db)\n"
        "  --json      machine-readable output\n"
        "  --quiet     no warnings or progress\n"
        "  --no-lock   read a database whose folder is read-only (no lock file;\n"
        "              only commands that read; safe while nothing writes it)\n"
        "\nExit status: 0 ok, 1 usage, 2 input error, 3 not found, 4 ambiguous,\n"
        "5 conflict, 6 database error, 7 out of memory, 8 I/O error, 9 internal;\n"
        "75: train interrupted by a signal, its state saved (see train --help).\n");
}

/* No OpenBLAS thread pool in the kgpath process.
 *
 * OpenBLAS (loaded by libkgpath and again through igraph's BLAS/LAPACK)
 * starts its pool in a load-time constructor, one thread per CPU less one,
 * each reserving a 128 MiB buffer of address space. kgpath never uses that
 * pool: the encoder runs its own threads and calls BLAS single-threaded
 * inside them (encoder/threads.h), other commands do no matrix work. Under
 * a memory limit a worker stuck retrying that buffer made exit() hang in
 * OpenBLAS's destructor, which joins it (issue 16).
 *
 * An executable's DT_PREINIT_ARRAY runs before every shared library's
 * constructor (setenv there would not do: libc's own initialiser resets
 * the environment afterwards). OpenBLAS's constructor sizes the pool from
 * blas_cpu_number when it is already set (0.3.x, pthreads build): set it
 * and blas_num_threads to 1 and no worker starts. Weak, so another BLAS
 * links too and is left alone. A program embedding libkgpath sets
 * OPENBLAS_NUM_THREADS=1 itself. */
extern int blas_cpu_number __attribute__((weak));
extern int blas_num_threads __attribute__((weak));

static void blas_single_preinit(int argc, char **argv, char **envp)
{
    (void)argc; (void)argv; (void)envp;
    if (&blas_cpu_number && &blas_num_threads && blas_cpu_number == 0) {
        blas_cpu_number = 1;
        blas_num_threads = 1;
    }
}
__attribute__((section(".preinit_array"), used))
static void (*const blas_single_preinit_entry)(int, char **, char **) = blas_single_preinit;

/* GnuTLS (the token digests of `serve` and `token`; libmicrohttpd links it
 * for `serve`) initialises itself in a load-time constructor, for every
 * command, and prints "Error in GnuTLS initialization" on stderr when that
 * fails (a low address-space limit), before kgpath's own message (exit 7).
 * GNUTLS_SKIP_GLOBAL_INIT (gnutls.h) turns that constructor off; the two
 * commands that use GnuTLS initialise it before they run. (libmicrohttpd's
 * own load-time gnutls_global_init still runs, but says nothing.) */
GNUTLS_SKIP_GLOBAL_INIT

static int uses_gnutls(const char *command)
{
    return !strcmp(command, "serve") || !strcmp(command, "token");
}

int main(int argc, char **argv)
{
    kgp_cli cli = {.prog = "kgpath"};
    /* Pull the global options out of the whole line (before "--"), so they
     * work before or after the command name. */
    char **args = malloc(sizeof *args * (size_t)(argc + 1));
    if (!args) return cli_fail(KGP_ENOMEM, NULL);
    int n = 0, help = 0, version = 0, dashdash = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash) { args[n++] = argv[i]; continue; }
        if (strcmp(a, "--") == 0) { dashdash = 1; args[n++] = argv[i]; continue; }
        if (strcmp(a, "--db") == 0) {
            if (i + 1 >= argc) { free(args); cli_error("--db needs a PATH"); return KGP_EUSAGE; }
            cli.db_path = argv[++i];
        } else if (strncmp(a, "--db=", 5) == 0) {
            cli.db_path = a + 5;
        } else if (strcmp(a, "--json") == 0) {
            cli.json = 1;
        } else if (strcmp(a, "--quiet") == 0) {
            cli.quiet = 1;
        } else if (strcmp(a, "--no-lock") == 0) {
            cli.no_lock = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help = 1;
        } else if (strcmp(a, "--version") == 0 && n == 0) {
            version = 1;
        } else {
            args[n++] = argv[i];
        }
    }
    args[n] = NULL;
    if (cli.db_path && !*cli.db_path) {
        free(args);
        cli_error("--db needs a non-empty PATH");
        return KGP_EUSAGE;
    }
    int rc;
    /* Before any BLAS call and before threads start (see kgp_blas_select). */
    kgp_blas_select();
    if (version) {
        printf("kgpath %s\n%s\n", kgp_version(NULL, NULL, NULL), kgp_blas_describe());
        rc = 0;
    } else if (n == 0 || args[0][0] == '-') {
        if (n > 0 && !help) {
            cli_error("unknown option '%s'", args[0]);
            print_usage(stderr);
            rc = KGP_EUSAGE;
        } else {
            print_usage(help ? stdout : stderr);
            rc = help ? 0 : KGP_EUSAGE;
        }
    } else {
        const kgp_cli_command *c = cli_find_command(args[0]);
        if (!c) {
            cli_error("unknown command '%s' (see kgpath --help)", args[0]);
            rc = KGP_EUSAGE;
        } else if (help) {
            if (c->help) fputs(c->help, stdout);
            else printf("usage: kgpath %s\n%s\n", c->name, c->summary);
            rc = 0;
        } else if (uses_gnutls(c->name) && gnutls_global_init() < 0) {
            rc = cli_fail(KGP_ENOMEM, "cannot initialise GnuTLS (out of memory?)");
        } else {
            rc = c->fn(&cli, n, args);
        }
    }
    free(args);
    return rc;
}
