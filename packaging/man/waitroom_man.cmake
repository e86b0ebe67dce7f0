# Writes waitroom(1) from the binary's own help, so the man page cannot drift from the options:
# help2man turns `waitroom --help` into the page, and every subcommand's `waitroom SUB --help`
# becomes a SUBCOMMANDS section (help2man alone would stop at the top-level list).
# cmake -DWAITROOM=<binary> -DHELP2MAN=<help2man> -DVERSION=<x.y.z> -DOUTPUT=<waitroom.1> -P waitroom_man.cmake
foreach(var WAITROOM HELP2MAN VERSION OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "waitroom_man.cmake: ${var} is not set")
  endif()
endforeach()

# The sanitizer builds run the binary too; a leak report at exit must not end up in the page.
set(ENV{ASAN_OPTIONS} "detect_leaks=0")

execute_process(COMMAND ${WAITROOM} --help OUTPUT_VARIABLE top RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${WAITROOM} --help failed (${rc})")
endif()

# CLI11 lists the subcommands after "Subcommands:", one "  name  description" per line.
string(REGEX REPLACE ".*\nSubcommands:\n" "" listing "${top}")
string(REPLACE "\n" ";" lines "${listing}")
set(subcommands)
foreach(line IN LISTS lines)
  if(line MATCHES "^  ([a-z][a-z0-9-]*)( |$)")
    list(APPEND subcommands ${CMAKE_MATCH_1})
  endif()
endforeach()
if(NOT subcommands)
  message(FATAL_ERROR "no subcommands found in `${WAITROOM} --help`")
endif()

# help2man's include file: "[SECTION]" lines, then roff text for that section.
get_filename_component(out_dir ${OUTPUT} DIRECTORY)
set(include_file ${out_dir}/waitroom.h2m)
set(roff "[NAME]\nwaitroom \\- a self-hostable virtual waiting room\n\n[SUBCOMMANDS]\n")
foreach(sub IN LISTS subcommands)
  execute_process(COMMAND ${WAITROOM} ${sub} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${WAITROOM} ${sub} --help failed (${rc})")
  endif()
  # CLI11 prints the path it was started by in "Usage:"; the page names the command.
  string(REPLACE "${WAITROOM}" "waitroom" help "${help}")
  # Roff: a backslash is an escape, and a line starting with . or ' is a request.
  string(REPLACE "\\" "\\e" help "${help}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
  string(APPEND roff ".SS \"waitroom ${sub}\"\n.nf\n${help}.fi\n")
endforeach()
string(APPEND roff "
[FILES]
.TP
.I /etc/waitroom/waitroom.toml
the configuration (every key: docs/configuration.md)
.TP
.I /var/lib/waitroom
the data directory: durable log (waitroom.log, its durable end waitroom.log.end), ticket
secret, signing keys, Web Push VAPID keys (vapid/, with [push]); a damaged log stops the
start: see \\fBwaitroom log check\\fR and \\fBwaitroom log repair\\fR

[SIGNALS]
.TP
.B SIGHUP
re-read the signing keys and the VAPID keys from the data directory (after
\\fBwaitroom keys rotate\\fR, with \\fB--vapid\\fR for the VAPID keys),
the TLS certificate and key files of [tls] (after a renewal; open connections keep their
certificate, and a file that fails to load keeps the current one), and the configuration's
rooms: for the rooms it names, the keys it writes are what runs, as at every start (a value
changed through the admin API since is set back and logged; keys it leaves out are kept);
other settings are read at start only
.TP
.BR SIGTERM \", \" SIGINT
drain: stop accepting, let requests in flight finish for up to [limits] shutdown_timeout_s
(10 s), end event streams, sync the log, give webhook deliveries up to 2 s (the rest is
delivered after the restart), exit 0

[ENVIRONMENT]
.TP
.B WAITROOM_ADMIN_KEY
the admin key (the server's, and the one \\fBwaitroom admin\\fR sends)
.TP
.BR WAITROOM_LISTEN \", \" WAITROOM_DATA_DIR \", \" WAITROOM_DURABILITY
override the config file's listen, data_dir and durability
.TP
.BR WAITROOM_STORE \", \" WAITROOM_REDIS_URL \", \" WAITROOM_REDIS_KEY_PREFIX
override store, redis_url (a seed list for a Redis Cluster) and redis_key_prefix
.TP
.BR WAITROOM_REDIS_CLUSTER \", \" WAITROOM_REDIS_WAIT_REPLICAS
override redis_cluster (0 or 1) and redis_wait_replicas
.TP
.BR WAITROOM_TLS_CERT_FILE \", \" WAITROOM_TLS_KEY_FILE
override [tls] cert_file and key_file (HTTPS on the listener)
.TP
.B WAITROOM_SMTP_PASSWORD
the [smtp] password (notification mails), over password_file

[SEE ALSO]
The operations guide, docs/operations.md, and the configuration reference, docs/configuration.md,
in Waitroom's source tree.
")
file(WRITE ${include_file} "${roff}")

execute_process(
  COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=1 --version-string=${VERSION}
          --include=${include_file} --output=${OUTPUT} ${WAITROOM}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man failed (${rc})")
endif()
