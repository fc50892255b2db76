// SPDX-License-Identifier: GPL-2.0
/*
 * Fault reporting of the emulated IOMMU: the per-context fault queue, read
 * through an anonymous-inode fd, and page requests (PRI) with their
 * responses.
 *
 * The queue is a fixed ring: when it is full a record is dropped, counted,
 * and the next record queued says how many were lost, so a guest that
 * faults without end costs a bounded amount of memory.  The queue (not the
 * context) is refcounted by the context and the fd: the fd holds no
 * reference on the context, and stays safe (reads drain what is left, then
 * end of file) after the context is gone.  A context has at most one live
 * queue; once its fd is closed, VSVA_FAULT_ALLOC makes a new one.
 *
 * Nothing here runs in IRQ context: no lock disables interrupts.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "emu_internal.h"

void emu_fq_put(struct emu_fq *fq)
{
	if (refcount_dec_and_test(&fq->users)) {
		mutex_destroy(&fq->read_lock);
		kvfree(fq);
	}
}

/*
 * Queue one record; false when the ring is full, and then the record counts
 * as lost unless @try (the caller has another way to report it).
 */
bool emu_fq_push(struct emu_fq *fq, u32 dev_id, const struct vsva_fault *f,
		 bool try)
{
	struct vsva_fault_event *ev;

	spin_lock(&fq->lock);
	if (fq->dead || fq->count == EMU_FQ_DEPTH) {
		if (!try) {
			fq->lost++;
			fq->seq++;
		}
		spin_unlock(&fq->lock);
		return false;
	}
	ev = &fq->ring[(fq->head + fq->count) % EMU_FQ_DEPTH];
	memset(ev, 0, sizeof(*ev));
	ev->dev_id = dev_id;
	ev->seq = fq->seq++;
	if (fq->lost) {
		ev->flags = VSVA_FAULT_EVENT_LOST;
		ev->lost = fq->lost;
		fq->lost = 0;
	}
	ev->fault = *f;
	fq->count++;
	spin_unlock(&fq->lock);
	wake_up_interruptible_poll(&fq->wq, EPOLLIN | EPOLLRDNORM);
	return true;
}

static bool emu_fq_readable(struct emu_fq *fq)
{
	return READ_ONCE(fq->count) || READ_ONCE(fq->dead);
}

static ssize_t emu_fq_read(struct file *file, char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct emu_fq *fq = file->private_data;
	const size_t rec = sizeof(struct vsva_fault_event);
	struct vsva_fault_event ev;
	ssize_t done = 0;
	int rc;

	if (count < rec)
		return -EINVAL;
	/* Another reader holds the lock, maybe asleep: never wait for it. */
	if (file->f_flags & O_NONBLOCK) {
		if (!mutex_trylock(&fq->read_lock))
			return -EAGAIN;
	} else if (mutex_lock_interruptible(&fq->read_lock)) {
		return -ERESTARTSYS;
	}
	while (done + rec <= count) {
		spin_lock(&fq->lock);
		if (!fq->count) {
			bool dead = fq->dead;

			spin_unlock(&fq->lock);
			if (done || dead)
				break;
			if (file->f_flags & O_NONBLOCK) {
				done = -EAGAIN;
				break;
			}
			rc = wait_event_interruptible(fq->wq,
						      emu_fq_readable(fq));
			if (rc) {
				done = rc;
				break;
			}
			continue;
		}
		ev = fq->ring[fq->head];
		spin_unlock(&fq->lock);

		if (copy_to_user(ubuf + done, &ev, rec)) {
			if (!done)
				done = -EFAULT;
			break;
		}
		/* Only readers pop, and they hold read_lock. */
		spin_lock(&fq->lock);
		fq->head = (fq->head + 1) % EMU_FQ_DEPTH;
		fq->count--;
		spin_unlock(&fq->lock);
		done += rec;
	}
	mutex_unlock(&fq->read_lock);
	return done;
}

static __poll_t emu_fq_poll(struct file *file, poll_table *wait)
{
	struct emu_fq *fq = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &fq->wq, wait);
	if (READ_ONCE(fq->count))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(fq->dead))
		mask |= EPOLLHUP;
	return mask;
}

static int emu_fq_release(struct inode *inode, struct file *file)
{
	emu_fq_put(file->private_data);
	return 0;
}

static const struct file_operations emu_fq_fops = {
	.owner = THIS_MODULE,
	.read = emu_fq_read,
	.poll = emu_fq_poll,
	.release = emu_fq_release,
	.llseek = noop_llseek,
};

/* Whether the queue's fd is still open (ctx->lock held). */
static bool emu_fq_has_file(struct emu_fq *fq)
{
	/* Only this file adds to the context's reference, under ctx->lock. */
	return refcount_read(&fq->users) > 1;
}

/*
 * The fault queue's file is made here but its fd is installed by the front
 * end only once the caller has been told the number: a failed copy-out then
 * undoes it with vsva_emu_fault_abort() and no fd ever leaks into the table.
 *
 * One live queue per context: -EBUSY while the previous fd is open.  Once it
 * is closed, the old queue (and the records nobody read) is dropped and a
 * new one made; page requests still pending stay pending and may still be
 * answered by group index.
 */
struct file *vsva_emu_fault_prepare(struct vsva_ctx *ctx)
{
	struct emu_ctx *ec = emu_ctx(ctx);
	struct file *file;
	struct emu_fq *fq;

	lockdep_assert_held(&ctx->lock);
	if (ec->fq && emu_fq_has_file(ec->fq))
		return ERR_PTR(-EBUSY);
	fq = kvzalloc(sizeof(*fq), GFP_KERNEL_ACCOUNT);
	if (!fq)
		return ERR_PTR(-ENOMEM);
	refcount_set(&fq->users, 2);
	mutex_init(&fq->read_lock);
	spin_lock_init(&fq->lock);
	init_waitqueue_head(&fq->wq);
	file = anon_inode_getfile("[vsva-fault]", &emu_fq_fops, fq, O_RDONLY);
	if (IS_ERR(file)) {
		mutex_destroy(&fq->read_lock);
		kvfree(fq);
		return file;
	}
	if (ec->fq)
		emu_fq_put(ec->fq);	/* its fd is gone: the last reference */
	ec->fq = fq;
	return file;
}

void vsva_emu_fault_abort(struct vsva_ctx *ctx, struct file *file)
{
	struct emu_ctx *ec = emu_ctx(ctx);
	struct emu_fq *fq = ec->fq;

	lockdep_assert_held(&ctx->lock);
	ec->fq = NULL;
	emu_fq_put(fq);
	fput(file);
}

static struct emu_prq *emu_prq_find(struct emu_ctx *ec, u64 dev_tag, u32 grpid)
{
	struct emu_prq *prq;

	list_for_each_entry(prq, &ec->prqs, node)
		if (prq->dev_tag == dev_tag && prq->grpid == grpid)
			return prq;
	return NULL;
}

/* Answer @prq; the caller holds prq_lock and has unlinked it. */
static void emu_prq_answer(struct emu_ctx *ec, struct emu_prq *prq, u32 code)
{
	prq->code = code;
	if (prq->waiter) {
		WRITE_ONCE(prq->done, true);
		wake_up_all(&ec->prq_wq);
	} else {
		kfree(prq);
	}
}

/**
 * emu_prq_queue() - raise a page request for a translation fault
 * @ctx: the context; ctx->lock held
 * @dev: the faulting device
 * @pasid: host PASID
 * @iova: faulting address
 * @perm: VSVA_FAULT_PERM_* requested
 * @wait: the caller will emu_prq_wait() for the answer
 * @grpid: out: the group index
 * @out: out: the request, when @wait
 *
 * Return: 0; -ENODEV without a fault queue or when its fd is closed (nobody
 * could answer); -ENOSPC when too many requests are pending or the queue is
 * full (the request is then not raised).
 */
int emu_prq_queue(struct vsva_ctx *ctx, struct vsva_device *dev, u32 pasid,
		  u64 iova, u32 perm, bool wait, u32 *grpid,
		  struct emu_prq **out)
{
	struct emu_ctx *ec = emu_ctx(ctx);
	struct vsva_fault f;
	struct emu_prq *prq;
	unsigned int i;
	u32 g = 0;

	lockdep_assert_held(&ctx->lock);
	if (!ec->fq || !emu_fq_has_file(ec->fq))
		return -ENODEV;
	/* Every byte reaches user space: zero the whole record, union tail too. */
	memset(&f, 0, sizeof(f));
	f.type = VSVA_FAULT_PAGE_REQ;
	prq = kzalloc(sizeof(*prq), GFP_KERNEL_ACCOUNT);
	if (!prq)
		return -ENOMEM;
	prq->dev_id = dev->obj.id;
	prq->dev_tag = emu_dev(dev)->tag;
	prq->pasid = pasid;
	prq->waiter = wait;

	spin_lock(&ec->prq_lock);
	if (ec->nr_prqs >= EMU_PRQ_MAX)
		goto full;
	for (i = 0; i < EMU_PRG_IDS; i++) {
		g = (ec->next_grpid + i) % EMU_PRG_IDS;
		if (!emu_prq_find(ec, prq->dev_tag, g))
			break;
	}
	if (i == EMU_PRG_IDS)
		goto full;
	ec->next_grpid = (g + 1) % EMU_PRG_IDS;
	prq->grpid = g;

	f.prm.flags = VSVA_FAULT_PAGE_REQUEST_PASID_VALID |
		      VSVA_FAULT_PAGE_REQUEST_LAST_PAGE;
	f.prm.pasid = pasid;
	f.prm.grpid = g;
	f.prm.perm = perm;
	f.prm.addr = iova & PAGE_MASK;
	if (!emu_fq_push(ec->fq, prq->dev_id, &f, true))
		goto full;
	list_add_tail(&prq->node, &ec->prqs);
	ec->nr_prqs++;
	spin_unlock(&ec->prq_lock);
	*grpid = g;
	*out = wait ? prq : NULL;
	return 0;
full:
	spin_unlock(&ec->prq_lock);
	kfree(prq);
	return -ENOSPC;
}

/**
 * emu_prq_wait() - wait for the answer to a page request
 * @ctx: the context; ctx->lock NOT held
 * @prq: from emu_prq_queue() with @wait; freed here
 * @code: out: VSVA_PAGE_RESP_*
 *
 * Return: 0, or -EINTR on a signal (the request is withdrawn; a later
 * response to it fails as unknown).  Not -ERESTARTSYS: the caller reports
 * what it did before the wait, and a restart would repeat it.
 */
int emu_prq_wait(struct vsva_ctx *ctx, struct emu_prq *prq, u32 *code)
{
	struct emu_ctx *ec = emu_ctx(ctx);
	int rc;

	rc = wait_event_interruptible(ec->prq_wq, READ_ONCE(prq->done));
	spin_lock(&ec->prq_lock);
	if (!prq->done) {
		list_del(&prq->node);
		ec->nr_prqs--;
		rc = -EINTR;
	} else {
		rc = 0;
		*code = prq->code;
	}
	spin_unlock(&ec->prq_lock);
	kfree(prq);
	return rc;
}

/**
 * emu_prq_withdraw() - take back a page request nobody has seen
 * @ctx: the context; ctx->lock held (no response can race with us)
 * @dev_id: the device's id
 * @dev_tag: the device's tag
 * @grpid: the request's group
 *
 * Withdrawn only when the request is pending without a waiter and its
 * record is the newest one still queued: then no reader has seen it, and
 * the queue (count, sequence, lost count) is put back as it was.
 *
 * Return: true when withdrawn.
 */
bool emu_prq_withdraw(struct vsva_ctx *ctx, u32 dev_id, u64 dev_tag,
		      u32 grpid)
{
	struct emu_ctx *ec = emu_ctx(ctx);
	struct vsva_fault_event *ev;
	struct emu_prq *prq;
	struct emu_fq *fq;
	bool ok = false;

	lockdep_assert_held(&ctx->lock);
	if (!ec || !ec->fq)
		return false;
	fq = ec->fq;
	spin_lock(&ec->prq_lock);
	prq = emu_prq_find(ec, dev_tag, grpid);
	if (!prq || prq->waiter)
		goto out;
	spin_lock(&fq->lock);
	if (fq->count) {
		ev = &fq->ring[(fq->head + fq->count - 1) % EMU_FQ_DEPTH];
		if (ev->dev_id == dev_id &&
		    ev->fault.type == VSVA_FAULT_PAGE_REQ &&
		    ev->fault.prm.grpid == grpid) {
			if (ev->flags & VSVA_FAULT_EVENT_LOST)
				fq->lost = ev->lost;
			fq->count--;
			fq->seq--;
			ok = true;
		}
	}
	spin_unlock(&fq->lock);
	if (ok) {
		list_del(&prq->node);
		ec->nr_prqs--;
		kfree(prq);
	}
out:
	spin_unlock(&ec->prq_lock);
	return ok;
}

/* Answer INVALID every pending request of a device (and PASID). */
void emu_prq_cancel(struct vsva_ctx *ctx, u64 dev_tag, u32 pasid,
		    bool all_pasids)
{
	struct emu_ctx *ec = emu_ctx(ctx);
	struct emu_prq *prq, *tmp;

	/* After vsva_emu_ctx_fini() nothing is pending any more. */
	if (!ec)
		return;
	spin_lock(&ec->prq_lock);
	list_for_each_entry_safe(prq, tmp, &ec->prqs, node) {
		if ((dev_tag && prq->dev_tag != dev_tag) ||
		    (!all_pasids && prq->pasid != pasid))
			continue;
		list_del(&prq->node);
		ec->nr_prqs--;
		emu_prq_answer(ec, prq, VSVA_PAGE_RESP_INVALID);
	}
	spin_unlock(&ec->prq_lock);
}

int emu_page_response(struct vsva_device *dev,
		      const struct vsva_page_response *msg,
		      struct vsva_errmsg *err)
{
	struct emu_ctx *ec = emu_ctx(dev->ctx);
	struct emu_dev *ed = emu_dev(dev);
	struct emu_prq *prq;

	lockdep_assert_held(&dev->ctx->lock);
	if (!ed || !ec) {
		vsva_err(err, "page response: device %u is not attached",
			 dev->obj.id);
		return -ENOENT;
	}
	spin_lock(&ec->prq_lock);
	prq = emu_prq_find(ec, ed->tag, msg->grpid);
	if (!prq) {
		spin_unlock(&ec->prq_lock);
		vsva_err(err,
			 "page response: no pending page request group %u on device %u",
			 msg->grpid, dev->obj.id);
		return -EINVAL;
	}
	if ((msg->flags & VSVA_PAGE_RESP_PASID_VALID) &&
	    msg->pasid != prq->pasid) {
		u32 pasid = prq->pasid;

		spin_unlock(&ec->prq_lock);
		vsva_err(err,
			 "page response: group %u of device %u is for PASID %u, not %u",
			 msg->grpid, dev->obj.id, pasid, msg->pasid);
		return -EINVAL;
	}
	list_del(&prq->node);
	ec->nr_prqs--;
	emu_prq_answer(ec, prq, msg->code);
	spin_unlock(&ec->prq_lock);
	return 0;
}

unsigned int vsva_emu_pending_prqs(struct vsva_ctx *ctx)
{
	struct emu_ctx *ec = emu_ctx(ctx);
	unsigned int n = 0;

	if (ec) {
		spin_lock(&ec->prq_lock);
		n = ec->nr_prqs;
		spin_unlock(&ec->prq_lock);
	}
	return n;
}
