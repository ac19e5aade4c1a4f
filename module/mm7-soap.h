/*
 * mm7-soap.h - MM7 (3GPP TS 23.140) SOAP: build SubmitReq and our
 * answers, parse SubmitRsp / faults and the MMSC's requests.
 *
 * Exports: Mm7Deliver, Mm7Report (+ create/destroy), Mm7ReportFn,
 *   Mm7DeliverFn, mm7_soap_init(), mm7_soap_deinit(),
 *   Mm7SubmitParams, mm7_submit_req(); Mm7Result, mm7_parse_response(),
 *   mm7_result_clear(), mm7_status_class(), mm7_status_text();
 *   Mm7Request, mm7_parse_request(), mm7_request_clear(), mm7_response().
 *
 * Parsing: elements are found by local name, in any order and any
 * namespace.  The XML is parsed strictly first, then once more with
 * unescaped '&' and '<' in text repaired (Mbuni sends them raw).  No
 * entity substitution, no DTD loading, no network; a document with a
 * DOCTYPE is refused outright (XXE, billion laughs).
 *
 * Limits: MM7_SOAP_MAX bytes of SOAP XML, MM7_SOAP_DEPTH element depth,
 *   MM7_MAX_RECIPIENTS recipients, MM7_VALUE_MAX bytes per value.
 * Logs: nothing; errors come back as data (code + fixed text).
 * Threads: every function is reentrant (libxml2 must have been
 *   initialised once with xmlInitParser(); mm7_soap_init() does that).
 */
#ifndef MM7_SOAP_H
#define MM7_SOAP_H

#include "gwlib/gwlib.h"

#define MM7_XMLNS_REL5 "http://www.3gpp.org/ftp/Specs/archive/23_series/" \
    "23.140/schema/REL-5-MM7-1-0"
#define MM7_VERSION_REL5 "5.3.0"
#define MM7_XMLNS_REL6 "http://www.3gpp.org/ftp/Specs/archive/23_series/" \
    "23.140/schema/REL-6-MM7-1-4"
#define MM7_VERSION_REL6 "6.8.0"

#define MM7_SOAP_MAX (1024L * 1024)
#define MM7_SOAP_DEPTH 32
#define MM7_MAX_RECIPIENTS 100
#define MM7_VALUE_MAX 4096
#define MM7_SUBJECT_MAX 60      /* characters of Subject we send */

/* 23.140 status codes we use (Table: "Status code and status text") */
#define MM7_SUCCESS 1000
#define MM7_CLIENT_ERROR 2000
#define MM7_ADDRESS_ERROR 2002
#define MM7_MESSAGE_ID_NOT_FOUND 2005
#define MM7_FORMAT_CORRUPT 2007
#define MM7_SERVER_ERROR 3000
#define MM7_GENERAL_SERVICE_ERROR 4000
#define MM7_IMPROPER_IDENT 4001
#define MM7_UNSUPPORTED_VERSION 4002
#define MM7_UNSUPPORTED_OPERATION 4003
#define MM7_VALIDATION_ERROR 4004
#define MM7_SERVICE_UNAVAILABLE 4006
#define MM7_SERVICE_DENIED 4007

/* ---- what the endpoint hands to the lead's callbacks ------------------ */

/* An MM from the MMSC (DeliverReq, or mmsbox's mms-service POST). */
typedef struct {
    Octstr *mmsc_id;        /* PmMmscConf id it came in on */
    Octstr *transaction_id; /* MM7 TransactionID, or NULL (mmsbox) */
    Octstr *message_id;     /* MessageID / X-Mbuni-Message-ID, or NULL */
    Octstr *sender;         /* "+4670..." or "bob@x", NULL if none */
    List *recipients;       /* Octstr*, "+4670..."/"bob@x"/"5555"
                               (/TYPE=PLMN and <> stripped); never NULL */
    Octstr *subject;        /* UTF-8 or NULL */
    Octstr *linked_id;      /* LinkedID or NULL */
    Octstr *content_type;   /* the MM's Content-Type value, or NULL */
    Octstr *content;        /* the MM's body (after its header), or NULL */
} Mm7Deliver;

/* A delivery report (DeliveryReportReq, or mmsbox's DLR GET). */
typedef struct {
    Octstr *mmsc_id;
    Octstr *message_id;     /* the MessageID our SubmitReq got back */
    Octstr *recipient;      /* the handset, or NULL */
    Octstr *status;         /* MMStatus: "Retrieved", "Expired", ... */
    Octstr *status_text;    /* or NULL */
    long date;              /* Unix time of the event; 0 if unknown */
} Mm7Report;

/*
 * Callbacks, called from the endpoint's accept thread, once per request,
 * before we answer.  The structs belong to the caller and live only for
 * the call: copy what you keep.  Return
 *   1      stored                     -> MM7 1000
 *   0      stored but unknown (logged) -> MM7 1000
 *  -1      cannot store now           -> HTTP 503 (the MMSC retries)
 *  >=2000  refuse with this MM7 status code (a permanent error)
 */
typedef int Mm7ReportFn(const Mm7Report *r, void *ctx);
typedef int Mm7DeliverFn(const Mm7Deliver *d, void *ctx);

/* New empty structs (recipients list created); destroy accepts NULL. */
Mm7Deliver *mm7_deliver_create(void);
void mm7_deliver_destroy(Mm7Deliver *d);
Mm7Report *mm7_report_create(void);
void mm7_report_destroy(Mm7Report *r);

/* A Subject as UTF-8: RFC 2047 words decoded, other 8-bit text kept
 * (Latin-1 when not UTF-8), controls removed (convert_header_decode);
 * takes s, NULL stays NULL. */
Octstr *mm7_subject_decode(Octstr *s);

/* Call once from the main thread before any other thread parses XML
 * (xmlInitParser(), g_mime_init() for RFC 2047 subjects); deinit drops
 * the GMime reference. */
void mm7_soap_init(void);
void mm7_soap_deinit(void);

/* ---- SubmitReq (we are the VASP) -------------------------------------- */

typedef struct {
    const Octstr *xmlns;          /* namespace URI; NULL = REL-5-MM7-1-0 */
    const Octstr *version;        /* MM7Version; NULL = 5.3.0 */
    const Octstr *transaction_id; /* required */
    const Octstr *vasp_id;        /* NULL = omitted */
    const Octstr *vas_id;         /* NULL = omitted */
    const Octstr *sender_address; /* digits -> ShortCode, "+..." -> Number,
                                     with '@' -> RFC2822Address; NULL =
                                     omitted */
    const Octstr *recipient;      /* required: "+..."/digits -> Number,
                                     with '@' -> RFC2822Address */
    const Octstr *service_code;   /* NULL = omitted */
    const Octstr *subject;        /* UTF-8; cut to MM7_SUBJECT_MAX chars;
                                     NULL or "" = omitted */
    const Octstr *content_id;     /* required, without <>:
                                     <Content href="cid:content_id"/> */
    int delivery_report;          /* 1 = <DeliveryReport>true</...> */
} Mm7SubmitParams;

/*
 * The SubmitReq SOAP envelope (UTF-8 XML, everything escaped by libxml2).
 * Returns a new Octstr, or NULL if a required field is missing or a
 * value is not valid UTF-8 / contains control characters.
 */
Octstr *mm7_submit_req(const Mm7SubmitParams *p);

/* ---- responses to our requests ---------------------------------------- */

typedef struct {
    long status_code;       /* MM7 StatusCode; -1 when none was found */
    Octstr *status_text;    /* StatusText, else faultstring, or NULL */
    Octstr *details;        /* Status/Details, or NULL */
    Octstr *message_id;     /* MessageID (SubmitRsp), or NULL */
    Octstr *transaction_id; /* from the SOAP header, or NULL */
    Octstr *op;             /* local name: "SubmitRsp", "RSErrorRsp", ... */
    int fault;              /* 1: it came inside a SOAP Fault */
} Mm7Result;

/*
 * Parse the MMSC's answer to our request: SubmitRsp (or any *Rsp), or a
 * SOAP Fault carrying RSErrorRsp/VASPErrorRsp, on any HTTP status (Mbuni
 * sends faults with 200, others with 500).  content_type may be NULL or
 * multipart/related (the SOAP part is used).  *r is cleared first and
 * filled; the caller frees it with mm7_result_clear().
 * Returns 0 when a StatusCode was found (r->status_code >= 0), -1 when the
 * body is not a usable MM7 answer (r->status_text says why; a bare SOAP
 * Fault without StatusCode gives -1 with faultstring in status_text).
 */
int mm7_parse_response(const Octstr *body, const Octstr *content_type,
                       long http_status, Mm7Result *r);
void mm7_result_clear(Mm7Result *r);

enum { MM7_CLASS_OK, MM7_CLASS_PERMANENT, MM7_CLASS_RETRY };
/* By thousands digit: 1xxx ok, 2xxx permanent, 3xxx/4xxx retry;
 * anything else (< 1000, >= 5000) permanent. */
int mm7_status_class(long code);

/* ---- requests from the MMSC (we are the VASP) ------------------------- */

enum { MM7_REQ_UNSUPPORTED, MM7_REQ_DELIVERY_REPORT, MM7_REQ_DELIVER };

typedef struct {
    int type;               /* MM7_REQ_* */
    Octstr *op;             /* local name of the Body element, or NULL */
    Octstr *transaction_id; /* or NULL */
    Octstr *xmlns;          /* namespace of the Body element, or NULL */
    Octstr *version;        /* MM7Version, or NULL */
    Mm7Report *report;      /* type MM7_REQ_DELIVERY_REPORT, else NULL */
    Mm7Deliver *deliver;    /* type MM7_REQ_DELIVER, else NULL */
    long error_code;        /* on -1: MM7_FORMAT_CORRUPT or
                               MM7_VALIDATION_ERROR */
    const char *error_text; /* on -1: fixed text, never NULL */
} Mm7Request;

/*
 * Parse an MM7 request (text/xml, or multipart/related with the SOAP part
 * and the MM named by <Content href="cid:..."/>).  *q is cleared first;
 * free it with mm7_request_clear().  Returns 0 (q->type says what; an
 * unknown operation is MM7_REQ_UNSUPPORTED with q->op set), or -1 with
 * q->error_code/error_text set (whatever was read before the error, e.g.
 * transaction_id and xmlns, stays filled so the answer can echo it).
 */
int mm7_parse_request(const Octstr *body, const Octstr *content_type,
                      Mm7Request *q);
void mm7_request_clear(Mm7Request *q);

/*
 * Our answer to q (q may be NULL or only partly filled).  code < 2000:
 * DeliveryReportRsp or DeliverRsp (by q->type) with that status;
 * code >= 2000 (or an unsupported request): a SOAP Fault (faultcode
 * env:Client for 2xxx, env:Server else) with VASPErrorRsp in detail.
 * Echoes q's TransactionID, namespace and version (defaults REL-5 /
 * 5.3.0).  text NULL = the standard text of the code.  Returns a new
 * Octstr (never NULL).
 */
Octstr *mm7_response(const Mm7Request *q, long code, const char *text);

/* The 23.140 text for a code ("Success", "Validation error", ...), or
 * the text of its class. */
const char *mm7_status_text(long code);

#endif
