/*
 * support.c — fixtures shared by the unit tests: paths into the demo PKI,
 * signers, trust stores, a realistic message body, temporary directories.
 */
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ppx/error.h"
#include "support.h"

static const char *pki_root(void)
{
	static char root[1024];
	const char *env = getenv("PPX_TEST_PKI");
	const char *build = getenv("BUILD");

	if (env)
		return env;
	snprintf(root, sizeof(root), "%s/pki", build ? build : "build");
	return root;
}

const char *pki_path(const char *rel)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), "%s/%s", pki_root(), rel);
	return buf;
}

const char *pki_path2(const char *rel)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), "%s/%s", pki_root(), rel);
	return buf;
}

ppx_trust *trust_demo(void)
{
	ppx_trust *t = NULL;
	char ca[2048], crl[2048];

	snprintf(ca, sizeof(ca), "%s", pki_path("ca/ca.crt"));
	snprintf(crl, sizeof(crl), "%s", pki_path("ca/crl.pem"));
	if (ppx_trust_load(&t, ca, crl, pki_path("certs")) != 0)
		fail_msg("cannot load demo trust (run make pki): %s",
			 ppx_error_last());
	return t;
}

ppx_signer *signer_at(const char *dir)
{
	char key[4096], cert[4096], rel[1024];
	ppx_signer *s = NULL;

	if (strchr(dir, '/'))
		snprintf(rel, sizeof(rel), "%s", dir);
	else
		snprintf(rel, sizeof(rel), "agencies/%s", dir);
	snprintf(key, sizeof(key), "%s/signing.key", pki_path(rel));
	snprintf(cert, sizeof(cert), "%s/signing.crt", pki_path(rel));
	if (ppx_signer_load(&s, key, cert) != 0)
		fail_msg("cannot load signer %s: %s", dir, ppx_error_last());
	return s;
}

static char *dup_str(const char *s)
{
	char *d = strdup(s);

	if (!d)
		fail_msg("out of memory");
	return d;
}

Ppx__V1__Body *body_new(const char *from, const char *to)
{
	Ppx__V1__Body *b = calloc(1, sizeof(*b));
	Ppx__V1__Person *p = calloc(1, sizeof(*p));
	Ppx__V1__SubjectIds *subj = calloc(1, sizeof(*subj));
	Ppx__V1__Notification *n = calloc(1, sizeof(*n));

	if (!b || !p || !subj || !n)
		fail_msg("out of memory");
	ppx__v1__body__init(b);
	ppx__v1__person__init(p);
	ppx__v1__subject_ids__init(subj);
	ppx__v1__notification__init(n);
	b->message_id.data = malloc(PPX_MESSAGE_ID_LEN);
	b->message_id.len = PPX_MESSAGE_ID_LEN;
	assert_int_equal(ppx_message_id_new(b->message_id.data), 0);
	b->sender_agency = dup_str(from);
	p->id = dup_str("dana.evans");
	p->name = dup_str("Dana Evans");
	p->agency = dup_str(from);
	p->role = dup_str("police offender manager");
	b->sender_person = p;
	b->n_recipients = 1;
	b->recipients = calloc(1, sizeof(char *));
	b->recipients[0] = dup_str(to);
	b->created_ms = (int64_t)time(NULL) * 1000;
	b->marking = PPX__V1__PROTECTIVE_MARKING__OFFICIAL_SENSITIVE;
	b->priority = PPX__V1__PRIORITY__URGENT;
	subj->pnc_id = dup_str("2019/0123456X");
	subj->crn = dup_str("X123456");
	b->subject = subj;
	n->kind = PPX__V1__NOTIFICATION_KIND__ARREST;
	n->effective_date = dup_str("2026-11-21");
	n->details = dup_str("Arrested 21:40 on suspicion of breach of SHPO.");
	b->payload_case = PPX__V1__BODY__PAYLOAD_NOTIFICATION;
	b->notification = n;
	return b;
}

void body_free(Ppx__V1__Body *b)
{
	if (!b)
		return;
	free(b->message_id.data);
	free(b->sender_agency);
	free(b->sender_person->id);
	free(b->sender_person->name);
	free(b->sender_person->agency);
	free(b->sender_person->role);
	free(b->sender_person);
	for (size_t i = 0; i < b->n_recipients; i++)
		free(b->recipients[i]);
	free(b->recipients);
	free(b->subject->pnc_id);
	free(b->subject->crn);
	free(b->subject);
	free(b->notification->effective_date);
	free(b->notification->details);
	free(b->notification);
	free(b);
}

char *tmpdir_new(void)
{
	char *d = strdup("/tmp/ppx-test-XXXXXX");

	if (!d || !mkdtemp(d))
		fail_msg("cannot make a temporary directory");
	return d;
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

void tmpdir_clear(const char *dir)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void tmpdir_remove(char *dir)
{
	if (!dir)
		return;
	tmpdir_clear(dir);
	free(dir);
}
