/* Names in the per-dtype templates (fills_template.c, layers_template.c),
 * included once for each SUF: FN(name) is name_SUF. */
#ifndef INITCORE_TEMPLATE_H
#define INITCORE_TEMPLATE_H

#define IC_CAT_(a, b) a##_##b
#define IC_CAT(a, b) IC_CAT_(a, b)
#define FN(name) IC_CAT(name, SUF)

#endif
