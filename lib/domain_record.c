/*
 * domain_record.c — partner records: which agency type owns which field,
 * how two versions differ, whether an agency may make a change, and the
 * rules of a record body (part of the domain module; domain.c tells its
 * story).
 *
 * A partner record is the shared picture of a subject that police,
 * probation and prison each hold in their own systems.  Every version
 * carries the whole picture; an update names the version it was based on
 * (base_version, and Body.supersedes for its message id) and lists the
 * fields it changed.  An agency may change only the fields its type owns
 * (a trust editing police-owned fields changed both the risk and the
 * MAPPA level, 003:L407).  What needs the other versions (conflicts, and
 * changed_fields against the base's content) is lib/records.c.
 *
 * Fields are reached through protobuf-c's descriptors, so comparing and
 * copying is one generic routine rather than one per field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain_int.h"
#include "ppx/error.h"

#define RECORD_ID_MAX 128

#define POLICE PPX_AGENCY_POLICE
#define PROBATION PPX_AGENCY_PROBATION
#define PRISON PPX_AGENCY_PRISON

/*
 * Who owns what (docs/PROTOCOL.md section 4.2).  Each system of record
 * keeps what it is the source of: police (PNC, ViSOR) the identity,
 * category and level and police officers; probation (nDelius, OASys) the
 * CRN, risk of serious harm, offender manager and licence conditions;
 * prison (NOMIS) the prison number and where the subject is held.  A few
 * fields are shared, for a reason each.
 */
static const struct record_field {
	const char *path;
	const char *parent;	/* submessage of PartnerRecord, or NULL */
	const char *field;	/* the field's name in it */
	unsigned owners;
} fields[PPX_RECORD_FIELDS] = {
	{"subject.pnc_id", "subject", "pnc_id", POLICE},
	{"subject.cro_number", "subject", "cro_number", POLICE},
	{"subject.crn", "subject", "crn", PROBATION},
	{"subject.prison_number", "subject", "prison_number", PRISON},
	{"subject.visor_id", "subject", "visor_id", POLICE},
	{"subject.name", "subject", "name", POLICE},
	/* a new identity disclosed to any of them must reach the others
	 * (001:L594) */
	{"subject.aliases", "subject", "aliases", POLICE | PROBATION | PRISON},
	{"subject.date_of_birth", "subject", "date_of_birth", POLICE},
	/* approved/release addresses (probation), registered addresses
	 * (police, 003:L240) */
	{"addresses", NULL, "addresses", PROBATION | POLICE},
	{"category", NULL, "category", POLICE},
	{"level", NULL, "level", POLICE},
	{"rosh", NULL, "rosh", PROBATION},
	/* decided by the MAPPA meeting, recorded by either */
	{"lead_agency", NULL, "lead_agency", PROBATION | POLICE},
	{"officers.offender_manager", "officers", "offender_manager",
	 PROBATION},
	{"officers.police_offender_manager", "officers",
	 "police_offender_manager", POLICE},
	{"officers.police_supervisor", "officers", "police_supervisor", POLICE},
	/* per condition: licence conditions probation, orders police */
	{"conditions", NULL, "conditions", PROBATION | POLICE},
	/* any responsible authority attaches itself (001:L534) */
	{"partner_agencies", NULL, "partner_agencies",
	 POLICE | PROBATION | PRISON},
	{"current_prison", NULL, "current_prison", PRISON},
};

static const struct record_field *field_by_path(const char *path)
{
	for (size_t i = 0; path && i < PPX_RECORD_FIELDS; i++)
		if (strcmp(fields[i].path, path) == 0)
			return &fields[i];
	return NULL;
}

const char *ppx_record_field_name(size_t i)
{
	return i < PPX_RECORD_FIELDS ? fields[i].path : NULL;
}

unsigned ppx_record_field_owners(const char *path)
{
	const struct record_field *f = field_by_path(path);

	return f ? f->owners : 0;
}

unsigned ppx_condition_owners(int kind)
{
	if (kind == PPX__V1__CONDITION_KIND__CONDITION_UNSPECIFIED)
		return 0;
	return ppxi_is_order(kind) ? POLICE : PROBATION;
}

/* The message holding the field (r, r->subject or r->officers), or NULL
 * when that submessage is not set; *fd is the field's descriptor. */
static ProtobufCMessage *container(const Ppx__V1__PartnerRecord *r,
				   const struct record_field *f,
				   const ProtobufCFieldDescriptor **fd)
{
	const ProtobufCMessage *m = r ? &r->base : NULL;

	if (m && f->parent) {
		const ProtobufCFieldDescriptor *pd =
			protobuf_c_message_descriptor_get_field_by_name(
				m->descriptor, f->parent);

		m = *(ProtobufCMessage *const *)(const void *)
			((const char *)m + pd->offset);
	}
	*fd = protobuf_c_message_descriptor_get_field_by_name(
		f->parent ? (strcmp(f->parent, "subject") == 0
				     ? &ppx__v1__subject_ids__descriptor
				     : &ppx__v1__named_officers__descriptor)
			  : &ppx__v1__partner_record__descriptor,
		f->field);
	return (ProtobufCMessage *)m;
}

/* Two messages hold the same value: the same bytes when packed (protobuf-c
 * packs fields in number order).  NULL is the empty message.  Memory
 * shortage counts as different: a change is then refused, never let by. */
static int message_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t la = a ? protobuf_c_message_get_packed_size(a) : 0;
	size_t lb = b ? protobuf_c_message_get_packed_size(b) : 0;
	uint8_t *pa, *pb;
	int eq;

	if (la != lb)
		return 0;
	if (la == 0)
		return 1;
	pa = malloc(la);
	pb = malloc(lb);
	eq = pa && pb && protobuf_c_message_pack(a, pa) == la &&
	     protobuf_c_message_pack(b, pb) == lb && memcmp(pa, pb, la) == 0;
	free(pa);
	free(pb);
	return eq;
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/* Element i of a repeated field, or the value of a singular one, equal?
 * Only the types PartnerRecord uses: strings, enums, messages. */
static int value_equal(const ProtobufCFieldDescriptor *fd, const void *a,
		       const void *b)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		return strcmp(str_or_empty(a ? *(char *const *)a : NULL),
			      str_or_empty(b ? *(char *const *)b : NULL)) == 0;
	case PROTOBUF_C_TYPE_ENUM:
		return (a ? *(const int *)a : 0) == (b ? *(const int *)b : 0);
	case PROTOBUF_C_TYPE_MESSAGE:
		return message_equal(a ? *(ProtobufCMessage *const *)a : NULL,
				     b ? *(ProtobufCMessage *const *)b : NULL);
	default:
		return 0;
	}
}

static size_t elem_size(const ProtobufCFieldDescriptor *fd)
{
	return fd->type == PROTOBUF_C_TYPE_ENUM ? sizeof(int) : sizeof(void *);
}

int ppx_record_field_equal(const char *path, const Ppx__V1__PartnerRecord *a,
			   const Ppx__V1__PartnerRecord *b)
{
	const struct record_field *f = field_by_path(path);
	const ProtobufCFieldDescriptor *fd;
	const char *ma, *mb;
	size_t na, nb;
	const char *va, *vb;

	if (!f)
		return 0;
	ma = (const char *)container(a, f, &fd);
	mb = (const char *)container(b, f, &fd);
	if (fd->label != PROTOBUF_C_LABEL_REPEATED)
		return value_equal(fd, ma ? ma + fd->offset : NULL,
				   mb ? mb + fd->offset : NULL);
	na = ma ? *(const size_t *)(const void *)(ma + fd->quantifier_offset) : 0;
	nb = mb ? *(const size_t *)(const void *)(mb + fd->quantifier_offset) : 0;
	if (na != nb)
		return 0;
	va = na ? *(char *const *)(const void *)(ma + fd->offset) : NULL;
	vb = nb ? *(char *const *)(const void *)(mb + fd->offset) : NULL;
	for (size_t i = 0; i < na; i++)
		if (!value_equal(fd, va + i * elem_size(fd),
				 vb + i * elem_size(fd)))
			return 0;
	return 1;
}

int ppx_record_diff(const char **out, size_t *n,
		    const Ppx__V1__PartnerRecord *a,
		    const Ppx__V1__PartnerRecord *b)
{
	*n = 0;
	for (size_t i = 0; i < PPX_RECORD_FIELDS; i++)
		if (!ppx_record_field_equal(fields[i].path, a, b))
			out[(*n)++] = fields[i].path;
	return 0;
}

static const Ppx__V1__Condition *condition_by_id(
	const Ppx__V1__PartnerRecord *r, const char *id)
{
	for (size_t i = 0; r && i < r->n_conditions; i++)
		if (r->conditions[i] &&
		    strcmp(str_or_empty(r->conditions[i]->id), id) == 0)
			return r->conditions[i];
	return NULL;
}

/* Every condition added, removed or changed is of a kind `type` owns. */
static int conditions_may_change(const char *agency, unsigned type,
				 const Ppx__V1__PartnerRecord *from,
				 const Ppx__V1__PartnerRecord *to)
{
	const Ppx__V1__PartnerRecord *side[2] = {from, to};
	char owner[64];

	for (int s = 0; s < 2; s++)
		for (size_t i = 0; side[s] && i < side[s]->n_conditions; i++) {
			const Ppx__V1__Condition *c = side[s]->conditions[i];
			const Ppx__V1__Condition *o =
				condition_by_id(side[1 - s], str_or_empty(c->id));
			unsigned owners = ppx_condition_owners(c->kind);

			if (o && message_equal(&c->base, &o->base))
				continue;
			if (owners & type)
				continue;
			ppx_agency_types_name(owner, sizeof(owner), owners);
			return ppx_error_set(
				PPX_EPOLICY,
				"partner_record.conditions[id %s]: "
				"%s may not change it: %s is "
				"owned by %s",
				str_or_empty(c->id), agency,
				ppxi_is_order(c->kind) ? "an order"
						       : "a licence condition",
				owner);
		}
	return 0;
}

int ppx_record_may_change(const char *path, const char *agency,
			  const Ppx__V1__PartnerRecord *from,
			  const Ppx__V1__PartnerRecord *to)
{
	unsigned type = ppx_agency_type(agency);
	unsigned owners = ppx_record_field_owners(path);
	char names[64], own[64];

	if (owners == 0)
		return ppx_error_set(PPX_EBODY, "partner_record.changed_fields: "
				     "'%s' is not a partner record field",
				     path ? path : "");
	if (strcmp(path, "conditions") == 0 && (owners & type))
		return conditions_may_change(agency, type, from, to);
	if (owners & type)
		return 0;
	ppx_agency_types_name(names, sizeof(names), owners);
	ppx_agency_types_name(own, sizeof(own), type);
	return ppx_error_set(PPX_EPOLICY, "partner_record.%s: %s (%s) may not "
			     "change this field: it is owned by %s (003:L407)",
			     path, agency, own, names);
}

int ppx_record_field_take(Ppx__V1__PartnerRecord *to, const char *path,
			  const Ppx__V1__PartnerRecord *from)
{
	const struct record_field *f = field_by_path(path);
	const ProtobufCFieldDescriptor *fd;
	char *dst, *src;

	if (!f)
		return ppx_error_set(PPX_EINVAL, "'%s' is not a partner record "
				     "field", path ? path : "");
	dst = (char *)container(to, f, &fd);
	src = (char *)container(from, f, &fd);
	if (!dst)
		return ppx_error_set(PPX_EINVAL, "partner_record.%s: the "
				     "record to copy into has no %s", path,
				     f->parent);
	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = src ? *(size_t *)(void *)(src + fd->quantifier_offset)
			       : 0;
		void *items = n ? *(void **)(void *)(src + fd->offset) : NULL;

		memcpy(dst + fd->quantifier_offset, &n, sizeof(n));
		memcpy(dst + fd->offset, &items, sizeof(items));
	} else if (src) {
		memcpy(dst + fd->offset, src + fd->offset, elem_size(fd));
	} else if (fd->type == PROTOBUF_C_TYPE_STRING) {
		*(char **)(void *)(dst + fd->offset) = (char *)"";
	} else {
		memset(dst + fd->offset, 0, elem_size(fd));
	}
	return 0;
}

/* A record id fit for a subject key: printable, no spaces. */
static int record_id_valid(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len == 0 || len > RECORD_ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

/* changed_fields: known names, each once, and for a first version
 * exactly the fields it sets. */
static int check_changed_fields(const Ppx__V1__PartnerRecord *r)
{
	const char *set[PPX_RECORD_FIELDS];
	size_t n;

	for (size_t i = 0; i < r->n_changed_fields; i++) {
		if (!ppx_record_field_owners(r->changed_fields[i]))
			return ppx_error_set(PPX_EBODY,
					     "partner_record.changed_fields[%zu]: "
					     "'%s' is not a partner record field",
					     i, r->changed_fields[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->changed_fields[i],
				   r->changed_fields[j]) == 0)
				return ppx_error_set(PPX_EBODY,
						     "partner_record.changed_"
						     "fields: '%s' twice",
						     r->changed_fields[i]);
	}
	if (r->version != 1)
		return r->n_changed_fields
			       ? 0
			       : ppxi_refuse(PPX_EBODY,
					     "partner_record.changed_fields",
					     "an update lists the fields it "
					     "changes");
	ppx_record_diff(set, &n, NULL, r);
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < r->n_changed_fields &&
		       strcmp(r->changed_fields[j], set[i]) != 0)
			j++;
		if (j == r->n_changed_fields)
			return ppx_error_set(PPX_EBODY, "partner_record.changed_"
					     "fields: version 1 sets %s but "
					     "does not list it", set[i]);
	}
	return n == r->n_changed_fields
		       ? 0
		       : ppxi_refuse(PPX_EBODY, "partner_record.changed_fields",
				     "version 1 lists a field it does not set");
}

/* Version numbers, base and what the update names it is based on. */
static int check_record_versions(const Ppx__V1__Body *b)
{
	const Ppx__V1__PartnerRecord *r = b->partner_record;

	if (r->version == 0)
		return ppxi_refuse(
			PPX_EBODY, "partner_record.version",
			"1 for a new record, base_version + 1 for an "
			"update");
	if (r->version != r->base_version + 1)
		return ppx_error_set(PPX_EBODY, "partner_record.version: %llu "
				     "must be base_version + 1 (%llu)",
				     (unsigned long long)r->version,
				     (unsigned long long)r->base_version + 1);
	if (r->version == 1 && (b->supersedes.len || r->n_merges))
		return ppxi_refuse(PPX_EBODY, "supersedes",
				   "version 1 of a record supersedes nothing");
	if (r->version > 1 &&
	    ppxi_check_message_id(
		    b->supersedes, "supersedes",
		    "an update names the version it is based on") != 0)
		return PPX_EBODY;
	for (size_t i = 0; i < r->n_merges; i++)
		if (r->merges[i].len != 16 ||
		    memcmp(r->merges[i].data, b->supersedes.data, 16) == 0)
			return ppx_error_set(PPX_EBODY, "partner_record.merges"
					     "[%zu]: a 16-byte message id "
					     "other than supersedes", i);
	return 0;
}

/* The content: what is set is well formed, and consistent. */
static int check_record_content(const Ppx__V1__PartnerRecord *r)
{
	int rc;

	if ((rc = ppxi_check_subject(r->subject, "partner_record.subject")) !=
		    0 ||
	    (rc = ppxi_check_rosh(r->rosh, r->n_rosh, "partner_record.rosh")) !=
		    0 ||
	    (rc = ppxi_check_conditions(r->conditions, r->n_conditions,
					"partner_record.conditions", 0)) != 0 ||
	    (rc = ppxi_check_agency(r->lead_agency,
				    "partner_record.lead_agency", 0)) != 0 ||
	    (rc = ppxi_check_agency(r->current_prison,
				    "partner_record.current_prison", 0)) != 0)
		return rc;
	for (size_t i = 0; i < r->n_conditions; i++)
		if (!ppxi_nonempty(r->conditions[i]->id) ||
		    condition_by_id(r, r->conditions[i]->id) !=
			    r->conditions[i])
			return ppx_error_set(PPX_EBODY, "partner_record."
					     "conditions[%zu].id: each "
					     "condition has its own id", i);
	for (size_t i = 0; i < r->n_partner_agencies; i++)
		if (ppxi_check_agency(r->partner_agencies[i],
				      "partner_record.partner_agencies",
				      1) != 0)
			return PPX_EBODY;
	for (size_t i = 0; ppxi_nonempty(r->current_prison); i++) {
		if (i == r->n_partner_agencies)
			return ppx_error_set(PPX_EBODY, "partner_record.partner_"
					     "agencies: the current prison %s "
					     "must be a partner (001:L534)",
					     r->current_prison);
		if (strcmp(r->partner_agencies[i], r->current_prison) == 0)
			break;
	}
	return 0;
}

int ppxi_domain_check_record(const Ppx__V1__Body *b, const char *sender)
{
	const Ppx__V1__PartnerRecord *r = b->partner_record;
	int rc;

	if (!record_id_valid(r->record_id))
		return ppxi_refuse(PPX_EBODY, "partner_record.record_id",
				   "the record's id is required (printable, no "
				   "spaces, at most 128 bytes)");
	if (ppx_agency_type(sender) == PPX_AGENCY_DTC)
		return ppx_error_set(PPX_EPOLICY, "partner_record: %s is a "
				     "duty-to-co-operate agency and owns no "
				     "partner record field", sender);
	if ((rc = check_record_versions(b)) != 0 ||
	    (rc = check_changed_fields(r)) != 0 ||
	    (rc = check_record_content(r)) != 0)
		return rc;
	/* With merges, fields another agency owns may come from the merged
	 * versions: records.c checks them against those. */
	for (size_t i = 0; r->n_merges == 0 && i < r->n_changed_fields; i++)
		if (!(ppx_record_field_owners(r->changed_fields[i]) &
		      ppx_agency_type(sender)))
			return ppx_record_may_change(r->changed_fields[i],
						     sender, NULL, NULL);
	return r->version == 1 ? conditions_may_change(sender,
						       ppx_agency_type(sender),
						       NULL, r)
			       : 0;
}
