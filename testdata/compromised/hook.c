/* The LD_PRELOAD library of the compromised lab workload: a constructor and a marker, nothing else. */
#include <string.h>
volatile char ckpt_hook_marker[64];
__attribute__((constructor)) static void hook_init(void) {
	strcpy((char *)ckpt_hook_marker, "CKPT-PRELOAD-HOOK-41c7");
}
