/* Team placement (see parallel.h). */
#define _GNU_SOURCE /* sched_getcpu, sched_getaffinity, CPU_COUNT */
#include "parallel.h"

#if defined(__linux__) && defined(_OPENMP)
#include <sched.h>

_Static_assert(sizeof(cpu_set_t) <= sizeof(((ic_pin *)0)->saved), "ic_pin holds a cpu_set_t");

int ic_team_home(void)
{
    return omp_get_proc_bind() == omp_proc_bind_false ? sched_getcpu() : -1;
}

void ic_pin_start(ic_pin *pin, int home)
{
    cpu_set_t *saved = (cpu_set_t *)pin->saved, one;
    int t = omp_get_thread_num(), n = omp_get_num_threads(), cpu = home;
    pin->pinned = 0;
    if (home < 0 || n < 2 || sched_getaffinity(0, sizeof *saved, saved) != 0)
        return;
    if (CPU_COUNT(saved) != n || !CPU_ISSET(home, saved))
        return;
    for (int k = 0; k < t;) {
        cpu = (cpu + 1) % CPU_SETSIZE;
        k += CPU_ISSET(cpu, saved) != 0;
    }
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pin->pinned = sched_setaffinity(0, sizeof one, &one) == 0;
}

void ic_pin_end(ic_pin *pin)
{
    if (pin->pinned)
        sched_setaffinity(0, sizeof(cpu_set_t), (cpu_set_t *)pin->saved);
}
#else
int ic_team_home(void)
{
    return -1;
}

void ic_pin_start(ic_pin *pin, int home)
{
    (void)home;
    pin->pinned = 0;
}

void ic_pin_end(ic_pin *pin)
{
    (void)pin;
}
#endif
