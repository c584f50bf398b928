/*
 * subject.c — subject keys (include/ppx/subject.h): the one table of
 * identifier schemes, and the keys of a SubjectIds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/error.h"
#include "ppx/subject.h"

/* The subject identifier schemes, and where each is in SubjectIds. */
static const struct {
	const char *scheme;
	size_t offset;
} schemes[PPX_SUBJECT_SCHEMES] = {
	{"pnc", offsetof(Ppx__V1__SubjectIds, pnc_id)},
	{"cro", offsetof(Ppx__V1__SubjectIds, cro_number)},
	{"crn", offsetof(Ppx__V1__SubjectIds, crn)},
	{"prison", offsetof(Ppx__V1__SubjectIds, prison_number)},
	{"visor", offsetof(Ppx__V1__SubjectIds, visor_id)},
};

const char *ppx_subject_scheme(size_t i)
{
	return i < PPX_SUBJECT_SCHEMES ? schemes[i].scheme : NULL;
}

const char *ppx_subject_id(const Ppx__V1__SubjectIds *ids, size_t i)
{
	const char *id;

	if (!ids || i >= PPX_SUBJECT_SCHEMES)
		return NULL;
	id = *(char *const *)(const void *)((const char *)ids +
					    schemes[i].offset);
	return id && *id ? id : NULL;
}

int ppx_subject_scheme_index(const char *name, size_t len)
{
	for (size_t i = 0; i < PPX_SUBJECT_SCHEMES; i++)
		if (strlen(schemes[i].scheme) == len &&
		    strncmp(schemes[i].scheme, name, len) == 0)
			return (int)i;
	return -1;
}

int ppx_subject_key_valid(const char *key)
{
	const char *colon = strchr(key, ':');

	if (!colon || !colon[1])
		return 0;
	for (const char *s = colon + 1; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return ppx_subject_scheme_index(key, (size_t)(colon - key)) >= 0;
}

int ppx_subject_keys(char ***out, size_t *n, const Ppx__V1__SubjectIds *ids)
{
	char **keys;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!ids)
		return 0;
	keys = calloc(PPX_SUBJECT_SCHEMES, sizeof(*keys));
	if (!keys)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < PPX_SUBJECT_SCHEMES; i++) {
		const char *id = ppx_subject_id(ids, i);
		size_t len;

		if (!id)
			continue;
		len = strlen(schemes[i].scheme) + 1 + strlen(id) + 1;
		keys[k] = malloc(len);
		if (!keys[k]) {
			ppx_subject_keys_free(keys, k);
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		}
		snprintf(keys[k++], len, "%s:%s", schemes[i].scheme, id);
	}
	*out = keys;
	*n = k;
	return 0;
}

void ppx_subject_keys_free(char **keys, size_t n)
{
	if (!keys)
		return;
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}
