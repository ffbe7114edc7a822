/* placeholder: being written */
typedef int myna_placeholder_log;
