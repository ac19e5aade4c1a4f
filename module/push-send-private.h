/*
 * push-send-private.h - what push-send.c (intake, life cycle) and
 * push-send-queue.c (the sending thread) share.  Not for other modules.
 */
#ifndef PUSH_SEND_PRIVATE_H
#define PUSH_SEND_PRIVATE_H

#include "push-send.h"

struct PushSend {
    const PmConfig *cfg;
    Store *store;
    PushSendSmsFn *sms;
    void *sms_ctx;
    long thread;
    volatile int stopping;
    Mutex *lock;                /* guards stats */
    PushSendStats stats;
};

/* Add one to a counter of ps->stats.  Any thread. */
void push_send_count(PushSend *ps, long *field);

/* push-send-queue.c: the sending thread (arg: the PushSend). */
void push_send_thread(void *arg);

#endif
