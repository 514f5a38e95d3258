# What bash completes for the command line $COMP_LINE once $SCRIPT, a completion script for `txn`,
# is loaded: it calls the function the script registers as bash does on Tab, and prints COMPREPLY,
# a word a line.
eval "$SCRIPT"
function=$(complete -p txn | sed -E 's/.*-F ([^ ]+).*/\1/')
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_POINT=${#COMP_LINE}
"$function" txn "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
