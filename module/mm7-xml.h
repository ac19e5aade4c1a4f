/*
 * mm7-xml.h - hostile-input XML reading for mm7-soap (private to MM7).
 *
 * Exports: mm7_xml_read(), mm7_xml_find(), mm7_xml_first_child(),
 *   mm7_xml_text(), mm7_xml_find_text(), mm7_xml_local_name(),
 *   mm7_xml_is(), Mm7XmlQuiet, mm7_xml_quiet(), mm7_xml_unquiet().
 *
 * Elements are looked up by local name, whatever their namespace or
 * prefix (an undeclared prefix stays in libxml2's name: it is cut off).
 * Limits: MM7_SOAP_MAX bytes, MM7_SOAP_DEPTH levels, MM7_VALUE_MAX bytes
 *   per value (mm7-soap.h).
 * Logs: nothing.  Threads: reentrant once xmlInitParser() ran.
 */
#ifndef MM7_XML_H
#define MM7_XML_H

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "gwlib/gwlib.h"

/*
 * Parse xml (charset from the HTTP Content-Type, or NULL): refuse any
 * DOCTYPE/ENTITY declaration, parse strictly, else repair unescaped '&'
 * and '<' and parse strictly again.  Returns a new xmlDoc (caller frees
 * with xmlFreeDoc) or NULL with *err_r set to a fixed text.
 */
xmlDoc *mm7_xml_read(const Octstr *xml, const Octstr *charset,
                     const char **err_r);

/* First element named `local` below n (depth first), or NULL. */
xmlNode *mm7_xml_find(xmlNode *n, const char *local);

/* First element child of n (n may be NULL), or NULL. */
xmlNode *mm7_xml_first_child(xmlNode *n);

/* Text content of n, blanks stripped, cut at MM7_VALUE_MAX bytes on a
 * UTF-8 boundary; new Octstr, NULL if n is NULL or the text empty. */
Octstr *mm7_xml_text(xmlNode *n);

/* mm7_xml_text(mm7_xml_find(scope, local)) */
Octstr *mm7_xml_find_text(xmlNode *scope, const char *local);

/* n's name without prefix ("" if none); points into n. */
const char *mm7_xml_local_name(const xmlNode *n);

/* Is n an element with this local name? (n may be NULL) */
int mm7_xml_is(const xmlNode *n, const char *local);

/*
 * libxml2 prints some errors (encoding conversion, output) to stderr even
 * with XML_PARSE_NOERROR.  quiet() swaps this thread's libxml2 error
 * handlers for silent ones and unquiet() puts the saved ones back.
 */
typedef struct {
    xmlGenericErrorFunc generic;
    void *generic_ctx;
    xmlStructuredErrorFunc structured;
    void *structured_ctx;
} Mm7XmlQuiet;

void mm7_xml_quiet(Mm7XmlQuiet *saved_r);
void mm7_xml_unquiet(const Mm7XmlQuiet *saved);

#endif
