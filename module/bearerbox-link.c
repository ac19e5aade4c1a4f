/*
 * bearerbox-link.c - the box-protocol connection to bearerbox.
 *
 * One thread: connect, identify, then loop { heartbeat when due; send due
 * MTs while the in-flight window has room; read one message with a short
 * timeout }.  bb_link_kick() wakes the thread out of its read so that a
 * new MT leaves at once.
 *
 * Reliability: an MT is marked SENT in the store before it is written and
 * ACCEPTED/FAILED/QUEUED when bearerbox acks it; every MT still SENT when
 * the link drops (or at start-up) is re-queued and re-sent.  MOs and DLRs
 * are acked only after they are stored.
 *
 * Limits: BB_WINDOW MTs in flight; reconnect backoff 1 s doubling to 30 s
 * with +-25 % jitter.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gw/shared.h"
#include "gw/sms.h"
#include "bearerbox-link.h"
#include "pm-log.h"

#define BB_WINDOW 64
#define BB_BATCH 100              /* messages per group commit */
#define BB_HEARTBEAT_SECS 10
#define BB_READ_TIMEOUT 1.0
#define BB_BACKOFF_MAX 30.0
#define BB_RETRY_SECS 30
#define BB_PROBE_MS 2000
#define BB_MAX_ATTEMPTS 10        /* sends of one MT before it fails */

struct BbLink {
    BbLinkConf conf;
    Store *store;
    BbLinkMoHandler *mo_handler;
    BbLinkBatchDone *batch_done;
    void *ctx;

    long thread;
    volatile int stopping;
    volatile int kicked;        /* new MTs queued since the last pump */
    int peer_stopping;          /* bearerbox said it shuts down */
    Mutex *lock;                /* guards state, counters */
    const char *state;
    BbLinkCounters counters;
    Dict *in_flight;            /* uuid string -> Octstr queue id */
    List *acked;                /* BbAcked* of the open batch */
};

static void bb_count(BbLink *l, long *field, long delta)
{
    mutex_lock(l->lock);
    *field += delta;
    mutex_unlock(l->lock);
}

static void bb_set_state(BbLink *l, const char *state)
{
    mutex_lock(l->lock);
    l->state = state;
    mutex_unlock(l->lock);
}

static void bb_note_in_flight(BbLink *l)
{
    mutex_lock(l->lock);
    l->counters.in_flight = dict_key_count(l->in_flight);
    mutex_unlock(l->lock);
}

static Octstr *bb_uuid_str(const uuid_t id)
{
    char buf[UUID_STR_LEN + 1];

    uuid_unparse(id, buf);
    return octstr_create(buf);
}

static double bb_jitter(double secs)
{
    return secs * (0.75 + (gw_rand() % 1000) / 2000.0);
}

static Msg *bb_mt_to_msg(BbLink *l, const StoreMt *mt)
{
    Msg *m = msg_create(sms);

    m->sms.sms_type = (mt->kind == 1) ? mt_reply : mt_push;
    m->sms.sender = octstr_duplicate(mt->sender);
    m->sms.receiver = octstr_duplicate(mt->msisdn);
    m->sms.msgdata = octstr_duplicate(mt->text);
    m->sms.udhdata = mt->udh ? octstr_duplicate(mt->udh) : octstr_create("");
    m->sms.coding = mt->coding;
    if (mt->coding == DC_UCS2)
        m->sms.charset = octstr_create("UTF-16BE");
    else if (mt->coding == DC_7BIT)
        m->sms.charset = octstr_create("UTF-8");
    m->sms.boxc_id = octstr_duplicate(l->conf.smsbox_id);
    m->sms.dlr_mask = l->conf.dlr_mask;
    m->sms.dlr_url = octstr_duplicate(mt->id);
    m->sms.time = time(NULL);
    return m;
}

/*
 * Send due MTs while the window has room.  All of them are marked SENT in
 * one store batch (one disk sync) before any is written.  0, or -1 on a
 * store error.
 */
static int bb_pump(BbLink *l, Connection *conn)
{
    List *due, *msgs;
    StoreMt *mt;
    Msg *m;
    long room = BB_WINDOW - dict_key_count(l->in_flight), i;
    int batched, ok = 1;

    if (room <= 0)
        return 0;
    due = store_mt_due(l->store, time(NULL), room);
    if (due == NULL)
        return -1;
    if (gwlist_len(due) == 0) {
        gwlist_destroy(due, NULL);
        return 0;
    }
    msgs = gwlist_create();
    batched = store_batch_begin(l->store) == 0;
    for (i = 0; ok && i < gwlist_len(due); i++) {
        mt = gwlist_get(due, i);
        if (mt->attempts >= BB_MAX_ATTEMPTS) {
            warning(0, "MT %s to %s failed: bearerbox deferred it %ld "
                    "times", octstr_get_cstr(mt->id),
                    octstr_get_cstr(mt->msisdn), mt->attempts);
            if (store_mt_set_state(l->store, mt->id, STORE_MT_FAILED, 0) < 0)
                ok = 0;
            gwlist_delete(due, i--, 1);
            store_mt_destroy(mt);
            continue;
        }
        if (store_mt_set_state(l->store, mt->id, STORE_MT_SENT, 0) < 0)
            ok = 0;
        else
            gwlist_append(msgs, bb_mt_to_msg(l, mt));
    }
    if (batched && store_batch_end(l->store, ok) < 0)
        ok = 0;
    i = 0;
    while ((m = gwlist_extract_first(msgs)) != NULL) {
        Octstr *key;

        mt = gwlist_get(due, i++);
        if (!ok) {
            msg_destroy(m);
            continue;
        }
        key = bb_uuid_str(m->sms.id);
        dict_put(l->in_flight, key, octstr_duplicate(mt->id));
        octstr_destroy(key);
        debug("box.link", 0, "MT %s to %s sent to bearerbox",
              octstr_get_cstr(mt->id), octstr_get_cstr(mt->msisdn));
        write_to_bearerbox_real(conn, m);
        bb_count(l, &l->counters.mt_sent, 1);
    }
    gwlist_destroy(msgs, NULL);
    gwlist_destroy(due, store_mt_destroy_item);
    bb_note_in_flight(l);
    return ok ? 0 : -1;
}

static void bb_send_ack(Connection *conn, Msg *orig)
{
    Msg *reply = msg_create(ack);

    reply->ack.nack = ack_success;
    reply->ack.time = orig->sms.time;
    uuid_copy(reply->ack.id, orig->sms.id);
    write_to_bearerbox_real(conn, reply);
}

/* An MT state from an ack of bearerbox, kept until its batch commits. */
typedef struct {
    Octstr *id;
    int state;
    long next_try;
} BbAcked;

static BbAcked *bb_ack_record(const Octstr *id, int state, long next_try)
{
    BbAcked *a = gw_malloc(sizeof(*a));

    a->id = octstr_duplicate(id);
    a->state = state;
    a->next_try = next_try;
    return a;
}

/*
 * The acks of a batch that rolled back are already gone from in_flight:
 * store their states again on their own, or the MTs would be re-sent as
 * if bearerbox had never taken them.
 */
static void bb_acked_done(BbLink *l, int committed)
{
    BbAcked *a;

    while ((a = gwlist_extract_first(l->acked)) != NULL) {
        if (!committed
            && store_mt_set_state(l->store, a->id, a->state,
                                  a->next_try) < 0)
            error(0, "bearerbox link: state of MT %s lost; it may be "
                  "sent again", octstr_get_cstr(a->id));
        octstr_destroy(a->id);
        gw_free(a);
    }
}

static int bb_handle_ack(BbLink *l, Msg *msg)
{
    Octstr *key = bb_uuid_str(msg->ack.id);
    Octstr *id = dict_remove(l->in_flight, key);
    int state, r = 0;
    long next = 0;

    octstr_destroy(key);
    if (id == NULL) {
        warning(0, "bearerbox link: ack for an MT we do not know");
        return 0;
    }
    switch (msg->ack.nack) {
    case ack_success:
    case ack_buffered:
        state = STORE_MT_ACCEPTED;
        bb_count(l, &l->counters.mt_acked, 1);
        break;
    case ack_failed:
        state = STORE_MT_FAILED;
        bb_count(l, &l->counters.mt_failed, 1);
        warning(0, "bearerbox refused MT %s for good (no route?)",
                octstr_get_cstr(id));
        break;
    default:
        state = STORE_MT_QUEUED;
        next = time(NULL) + (long) bb_jitter(BB_RETRY_SECS);
        info(0, "bearerbox deferred MT %s; retrying in about %d s",
             octstr_get_cstr(id), BB_RETRY_SECS);
        break;
    }
    if (store_mt_set_state(l->store, id, state, next) < 0)
        r = -1;
    l->kicked = 1;              /* the window has room again */
    gwlist_append(l->acked, bb_ack_record(id, state, next));
    octstr_destroy(id);
    bb_note_in_flight(l);
    return r;
}

static int bb_handle_dlr(BbLink *l, Msg *msg)
{
    Octstr *id = msg->sms.dlr_url;
    int r;

    if (id == NULL || octstr_len(id) == 0 || octstr_len(id) > 64) {
        warning(0, "bearerbox link: DLR without a usable dlr-url; acked "
                "and ignored");
        return 0;
    }
    r = store_mt_dlr(l->store, id, (int) msg->sms.dlr_mask,
                     msg->sms.time > 0 ? msg->sms.time : time(NULL));
    if (r < 0)
        return -1;
    if (r == 0) {
        Octstr *safe = pm_log_safe(id, 64);

        warning(0, "bearerbox link: DLR for unknown MT '%s'; ignored",
                octstr_get_cstr(safe));
        octstr_destroy(safe);
    }
    else
        debug("box.link", 0, "DLR %ld for MT %s", msg->sms.dlr_mask,
              octstr_get_cstr(id));
    return 0;
}

/*
 * Handle one message from bearerbox.  An sms (MO, DLR) goes to `acks` to
 * be acked once the batch is committed; anything else is destroyed.
 * Returns -1 when it could not be stored (drop the connection).
 */
static int bb_handle(BbLink *l, Msg *msg, List *acks)
{
    int r = 0;

    switch (msg_type(msg)) {
    case sms:
        if (msg->sms.sms_type == report_mo)
            r = bb_handle_dlr(l, msg);
        else if (msg->sms.sms_type == mo)
            r = l->mo_handler(msg, l->ctx);
        else
            warning(0, "bearerbox link: sms of type %ld acked and ignored",
                    msg->sms.sms_type);
        gwlist_append(acks, msg);
        return r;
    case ack:
        r = bb_handle_ack(l, msg);
        break;
    case admin:
        if (msg->admin.command == cmd_shutdown)
            l->peer_stopping = 1;
        break;
    default:
        break;
    }
    msg_destroy(msg);
    return r;
}

/*
 * Handle a batch of messages read in one go: everything they change is
 * stored in one store batch (one disk sync), and only after it committed
 * are the MOs and DLRs acked.  Takes the messages.  -1 = drop the link
 * (bearerbox re-sends what it did not get an ack for).
 */
static int bb_handle_batch(BbLink *l, Connection *conn, List *batch)
{
    List *acks;
    Msg *msg;
    int ok = 1;

    if (store_batch_begin(l->store) < 0) {
        /* store nothing rather than half: bearerbox keeps it all */
        while ((msg = gwlist_extract_first(batch)) != NULL)
            msg_destroy(msg);
        return -1;
    }
    acks = gwlist_create();
    while ((msg = gwlist_extract_first(batch)) != NULL) {
        if (!ok)
            msg_destroy(msg);
        else if (bb_handle(l, msg, acks) < 0)
            ok = 0;
    }
    if (store_batch_end(l->store, ok) < 0)
        ok = 0;
    bb_acked_done(l, ok);
    if (l->batch_done != NULL)
        l->batch_done(ok, l->ctx);
    while ((msg = gwlist_extract_first(acks)) != NULL) {
        if (ok) {
            bb_send_ack(conn, msg);
            if (msg->sms.sms_type == report_mo)
                bb_count(l, &l->counters.dlr, 1);
            else if (msg->sms.sms_type == mo)
                bb_count(l, &l->counters.mo, 1);
        }
        msg_destroy(msg);
    }
    gwlist_destroy(acks, NULL);
    return ok ? 0 : -1;
}

/*
 * Read one message, waiting at most `secs`.  Unlike Kannel's
 * read_from_bearerbox_real() this returns early when the thread is woken
 * by bb_link_kick().  0 = *msg_r set, 1 = nothing yet, -1 = link lost.
 */
static int bb_read(Connection *conn, Msg **msg_r, double secs)
{
    Octstr *pack;

    *msg_r = NULL;
    pack = conn_read_withlen(conn);
    if (pack == NULL) {
        if (conn_error(conn) || conn_eof(conn))
            return -1;
        if (conn_wait(conn, secs) < 0)
            return -1;
        pack = conn_read_withlen(conn);
        if (pack == NULL)
            return (conn_error(conn) || conn_eof(conn)) ? -1 : 1;
    }
    *msg_r = msg_unpack(pack);
    octstr_destroy(pack);
    if (*msg_r == NULL) {
        warning(0, "bearerbox link: a message could not be unpacked");
        return -1;
    }
    return 0;
}

static void bb_identify(BbLink *l, Connection *conn)
{
    Msg *m = msg_create(admin);

    m->admin.command = cmd_identify;
    m->admin.boxc_id = octstr_duplicate(l->conf.smsbox_id);
    write_to_bearerbox_real(conn, m);
}

static void bb_session(BbLink *l, Connection *conn)
{
    time_t last_hb = 0, last_pump = 0;
    List *batch;
    Msg *msg;
    int r;

    while (!l->stopping) {
        if (time(NULL) - last_hb >= BB_HEARTBEAT_SECS) {
            Msg *hb = msg_create(heartbeat);

            hb->heartbeat.load = 0;
            write_to_bearerbox_real(conn, hb);
            last_hb = time(NULL);
        }
        if (l->kicked || time(NULL) != last_pump) {
            l->kicked = 0;
            last_pump = time(NULL);
            if (bb_pump(l, conn) < 0) {
                error(0, "bearerbox link: the outbound queue cannot be "
                      "read; reconnecting");
                return;
            }
        }
        r = bb_read(conn, &msg, BB_READ_TIMEOUT);
        if (r == 1)
            continue;
        if (r < 0) {
            if (!l->stopping)
                warning(0, "bearerbox link: connection to %s:%ld lost",
                        octstr_get_cstr(l->conf.host), l->conf.port);
            return;
        }
        /* take what else is already there, for one group commit */
        batch = gwlist_create();
        gwlist_append(batch, msg);
        while (gwlist_len(batch) < BB_BATCH
               && (r = bb_read(conn, &msg, 0)) == 0)
            gwlist_append(batch, msg);
        if (bb_handle_batch(l, conn, batch) < 0) {
            gwlist_destroy(batch, NULL);
            error(0, "bearerbox link: messages could not be stored; "
                  "dropping the link so bearerbox keeps them");
            return;
        }
        gwlist_destroy(batch, NULL);
        if (l->peer_stopping) {
            /* like smsbox: let go at once, reconnect with backoff */
            info(0, "bearerbox is shutting down; closing the link");
            l->peer_stopping = 0;
            return;
        }
        if (r < 0)
            return;
    }
}

/*
 * Can bearerbox's port be reached?  Kannel's connect logs three errors
 * per failed attempt; probing first lets us log one line per outage.
 * Returns 0, or an errno value.
 */
static int bb_probe(const BbLink *l)
{
    struct addrinfo hints, *res = NULL, *ai;
    struct pollfd pfd;
    socklen_t len;
    char port[16];
    int fd, err = ECONNREFUSED, soerr;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%ld", l->conf.port);
    if (getaddrinfo(octstr_get_cstr(l->conf.host), port, &hints, &res) != 0)
        return EHOSTUNREACH;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            err = 0;
        } else if (errno != EINPROGRESS) {
            err = errno;
        } else {
            /* bounded, so that a host that drops packets cannot hold
             * up a shutdown */
            pfd.fd = fd;
            pfd.events = POLLOUT;
            soerr = 0;
            len = sizeof(soerr);
            if (poll(&pfd, 1, BB_PROBE_MS) <= 0)
                err = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
                err = errno;
            else
                err = soerr;
        }
        close(fd);
        if (err == 0)
            break;
    }
    freeaddrinfo(res);
    return err;
}

static void bb_thread(void *arg)
{
    BbLink *l = arg;
    double backoff = 1.0;
    Connection *conn;
    int err, told = 0;

    while (!l->stopping) {
        bb_set_state(l, "connecting");
        err = bb_probe(l);
        if (err != 0 && !told) {
            warning(0, "bearerbox at %s:%ld cannot be reached (%s); "
                    "retrying", octstr_get_cstr(l->conf.host),
                    l->conf.port, strerror(err));
            told = 1;
        }
        conn = err ? NULL : connect_to_bearerbox_real(l->conf.host,
                                                      l->conf.port,
                                                      l->conf.ssl, NULL);
        if (conn == NULL) {
            bb_set_state(l, "down");
            gwthread_sleep(bb_jitter(backoff));
            backoff = backoff * 2 > BB_BACKOFF_MAX ? BB_BACKOFF_MAX
                                                   : backoff * 2;
            continue;
        }
        backoff = 1.0;
        told = 0;
        bb_identify(l, conn);
        dict_destroy(l->in_flight);
        l->in_flight = dict_create(BB_WINDOW * 2, octstr_destroy_item);
        if (store_mt_requeue_sent(l->store) < 0)
            error(0, "bearerbox link: cannot re-queue unacked MTs");
        bb_set_state(l, "connected");
        bb_count(l, &l->counters.connects, 1);
        info(0, "connected to bearerbox at %s:%ld as '%s'",
             octstr_get_cstr(l->conf.host), l->conf.port,
             octstr_get_cstr(l->conf.smsbox_id));
        bb_session(l, conn);
        close_connection_to_bearerbox_real(conn);
        bb_set_state(l, "down");
        if (!l->stopping)
            gwthread_sleep(bb_jitter(1.0));
    }
}

BbLink *bb_link_create(const BbLinkConf *conf, Store *store,
                       BbLinkMoHandler *mo_handler,
                       BbLinkBatchDone *batch_done, void *ctx)
{
    BbLink *l = gw_malloc(sizeof(*l));

    memset(l, 0, sizeof(*l));
    l->conf.host = octstr_duplicate(conf->host);
    l->conf.port = conf->port;
    l->conf.ssl = conf->ssl;
    l->conf.smsbox_id = octstr_duplicate(conf->smsbox_id);
    l->conf.dlr_mask = conf->dlr_mask;
    l->store = store;
    l->mo_handler = mo_handler;
    l->batch_done = batch_done;
    l->ctx = ctx;
    l->lock = mutex_create();
    l->state = "down";
    l->in_flight = dict_create(BB_WINDOW * 2, octstr_destroy_item);
    l->acked = gwlist_create();
    l->thread = gwthread_create(bb_thread, l);
    if (l->thread == -1) {
        error(0, "cannot start the bearerbox link thread");
        l->stopping = 1;
        bb_link_destroy(&l);
        return NULL;
    }
    return l;
}

void bb_link_kick(BbLink *l)
{
    /* One wake-up per pump is enough: a burst of MTs costs one write to
     * the thread's wake-up pipe, not one each. */
    if (l != NULL && l->thread >= 0 && !l->kicked) {
        l->kicked = 1;
        gwthread_wakeup(l->thread);
    }
}

const char *bb_link_state(BbLink *l)
{
    const char *s;

    mutex_lock(l->lock);
    s = l->state;
    mutex_unlock(l->lock);
    return s;
}

void bb_link_counters(BbLink *l, BbLinkCounters *c_r)
{
    mutex_lock(l->lock);
    *c_r = l->counters;
    mutex_unlock(l->lock);
}

void bb_link_destroy(BbLink **lp)
{
    BbLink *l = *lp;

    if (l == NULL)
        return;
    *lp = NULL;
    l->stopping = 1;
    if (l->thread >= 0) {
        gwthread_wakeup(l->thread);
        gwthread_join(l->thread);
    }
    dict_destroy(l->in_flight);
    gwlist_destroy(l->acked, NULL);
    mutex_destroy(l->lock);
    octstr_destroy(l->conf.host);
    octstr_destroy(l->conf.smsbox_id);
    gw_free(l);
}
