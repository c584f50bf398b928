/*
 * pkcs11.c — a signer whose key lives in an HSM or smartcard.
 *
 * ppxd signs every message, receipt and checkpoint with its agency's key.
 * When the configuration names that key with a pkcs11: URI
 * (lib/signer_open.c), this module loads the PKCS#11 module with dlopen,
 * initialises it, finds the token by label, logs in with the PIN from a
 * 0600 file (lib/pkcs11_uri.c), finds the private key by label and/or id
 * and hands ppx_signer_with_backend() a backend whose sign() asks the
 * token.  The key never enters this process.
 *
 * Ed25519 keys sign with CKM_EDDSA over the message itself; ECDSA P-256
 * keys sign with CKM_ECDSA over the SHA-256 we compute, and the token's
 * raw r||s is re-encoded as the DER signature OpenSSL makes, which is
 * what ppx carries on the wire (lib/pki.c).  SoftHSM2 2.6 (Debian 12)
 * does both mechanisms.
 *
 * A module is initialised once per process however many signers use it
 * (a small table of the function lists in use, counted), and finalised
 * when the last is freed, unless another library of the process had
 * initialised it first.  Signers are opened, used and freed from one
 * thread.  Every failure of a PKCS#11 call names the call and its CKR_
 * code.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include "ppx/error.h"
#include "ppx/pkcs11.h"
#include "ppx.pb-c.h"

#define MODULES_MAX 8
#define RAW_SIG_MAX 132		/* r||s of P-521, the largest EC curve */

/* A loaded token key: what sign() needs. */
struct p11 {
	void *dl;
	CK_FUNCTION_LIST_PTR fn;
	int initialised;	/* counted in `modules` */
	CK_SESSION_HANDLE session;
	int has_session;
	CK_OBJECT_HANDLE key;
	CK_KEY_TYPE key_type;
};

/* The modules initialised in this process, and by how many signers. */
static struct {
	CK_FUNCTION_LIST_PTR fn;
	int refs;
	int finalize;	/* 0: someone else in the process initialised it */
} modules[MODULES_MAX];

#define RV(x) {x, #x}
static const struct {
	CK_RV rv;
	const char *name;
} rv_names[] = {
	RV(CKR_CANCEL), RV(CKR_HOST_MEMORY), RV(CKR_SLOT_ID_INVALID),
	RV(CKR_GENERAL_ERROR), RV(CKR_FUNCTION_FAILED),
	RV(CKR_ARGUMENTS_BAD), RV(CKR_CANT_LOCK),
	RV(CKR_ATTRIBUTE_SENSITIVE), RV(CKR_ATTRIBUTE_TYPE_INVALID),
	RV(CKR_ATTRIBUTE_VALUE_INVALID), RV(CKR_DATA_INVALID),
	RV(CKR_DATA_LEN_RANGE), RV(CKR_DEVICE_ERROR), RV(CKR_DEVICE_MEMORY),
	RV(CKR_DEVICE_REMOVED), RV(CKR_FUNCTION_CANCELED),
	RV(CKR_FUNCTION_NOT_SUPPORTED), RV(CKR_KEY_HANDLE_INVALID),
	RV(CKR_KEY_SIZE_RANGE), RV(CKR_KEY_TYPE_INCONSISTENT),
	RV(CKR_KEY_FUNCTION_NOT_PERMITTED), RV(CKR_MECHANISM_INVALID),
	RV(CKR_MECHANISM_PARAM_INVALID), RV(CKR_OBJECT_HANDLE_INVALID),
	RV(CKR_OPERATION_ACTIVE), RV(CKR_OPERATION_NOT_INITIALIZED),
	RV(CKR_PIN_INCORRECT), RV(CKR_PIN_INVALID), RV(CKR_PIN_LEN_RANGE),
	RV(CKR_PIN_EXPIRED), RV(CKR_PIN_LOCKED), RV(CKR_SESSION_CLOSED),
	RV(CKR_SESSION_COUNT), RV(CKR_SESSION_HANDLE_INVALID),
	RV(CKR_SESSION_PARALLEL_NOT_SUPPORTED), RV(CKR_SESSION_READ_ONLY),
	RV(CKR_SIGNATURE_INVALID), RV(CKR_SIGNATURE_LEN_RANGE),
	RV(CKR_TEMPLATE_INCOMPLETE), RV(CKR_TEMPLATE_INCONSISTENT),
	RV(CKR_TOKEN_NOT_PRESENT), RV(CKR_TOKEN_NOT_RECOGNIZED),
	RV(CKR_USER_ALREADY_LOGGED_IN), RV(CKR_USER_NOT_LOGGED_IN),
	RV(CKR_USER_PIN_NOT_INITIALIZED), RV(CKR_USER_TYPE_INVALID),
	RV(CKR_USER_ANOTHER_ALREADY_LOGGED_IN), RV(CKR_BUFFER_TOO_SMALL),
	RV(CKR_CRYPTOKI_NOT_INITIALIZED),
	RV(CKR_CRYPTOKI_ALREADY_INITIALIZED), RV(CKR_MUTEX_BAD),
	RV(CKR_FUNCTION_REJECTED),
};

static const char *rv_name(CK_RV rv)
{
	for (size_t i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++)
		if (rv_names[i].rv == rv)
			return rv_names[i].name;
	return rv >= CKR_VENDOR_DEFINED ? "CKR_VENDOR_DEFINED" : "CKR_unknown";
}

/* "WHAT: CALL failed: CKR_NAME (0xN)"; a refused PIN is PPX_EPERM. */
static int p11_fail(const char *what, const char *call, CK_RV rv)
{
	int code = rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED ||
			   rv == CKR_PIN_EXPIRED || rv == CKR_PIN_LEN_RANGE ||
			   rv == CKR_PIN_INVALID
		   ? PPX_EPERM : PPX_EIO;

	return ppx_error_set(code, "%s: %s failed: %s (0x%lx)", what, call,
			     rv_name(rv), (unsigned long)rv);
}

/* Count a user of fn; the first one initialises the module. */
static int module_init(struct p11 *p, const char *module)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	int free_slot = -1;
	CK_RV rv;

	for (int i = 0; i < MODULES_MAX; i++) {
		if (modules[i].fn == p->fn) {
			modules[i].refs++;
			p->initialised = 1;
			return 0;
		}
		if (!modules[i].fn && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return ppx_error_set(PPX_ERANGE, "%s: more than %d PKCS#11 "
				     "modules in one process", module,
				     MODULES_MAX);
	rv = p->fn->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return p11_fail(module, "C_Initialize", rv);
	modules[free_slot].fn = p->fn;
	modules[free_slot].refs = 1;
	modules[free_slot].finalize = rv == CKR_OK;
	p->initialised = 1;
	return 0;
}

/* Uncount a user of p->fn; the last one finalises the module. */
static void module_fini(struct p11 *p)
{
	for (int i = 0; p->initialised && i < MODULES_MAX; i++)
		if (modules[i].fn == p->fn && --modules[i].refs == 0) {
			if (modules[i].finalize)
				p->fn->C_Finalize(NULL);
			modules[i].fn = NULL;
		}
	p->initialised = 0;
}

/* dlopen `module`, find its function list and initialise it. */
static int module_load(struct p11 *p, const char *module)
{
	CK_C_GetFunctionList get;
	CK_RV rv;

	p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl)
		return ppx_error_set(PPX_ENOTFOUND, "cannot load PKCS#11 "
				     "module %s: %s", module, dlerror());
	*(void **)(&get) = dlsym(p->dl, "C_GetFunctionList");
	if (!get)
		return ppx_error_set(PPX_EINVAL, "%s is not a PKCS#11 module: "
				     "it has no C_GetFunctionList", module);
	rv = get(&p->fn);
	if (rv != CKR_OK)
		return p11_fail(module, "C_GetFunctionList", rv);
	return module_init(p, module);
}

/* Nonzero if the 32-byte blank-padded `label` is `want`. */
static int label_is(const unsigned char label[32], const char *want)
{
	size_t n = strlen(want);

	if (n > 32 || memcmp(label, want, n) != 0)
		return 0;
	for (; n < 32; n++)
		if (label[n] != ' ')
			return 0;
	return 1;
}

/* The slot holding the token labelled `token` into *slot. */
static int token_find(struct p11 *p, CK_SLOT_ID *slot, const char *token,
		      const char *module)
{
	CK_ULONG n = 0;
	CK_SLOT_ID *slots;
	CK_TOKEN_INFO info;
	CK_RV rv = p->fn->C_GetSlotList(CK_TRUE, NULL, &n);
	int found = 0;

	if (rv != CKR_OK)
		return p11_fail(module, "C_GetSlotList", rv);
	slots = calloc(n ? n : 1, sizeof(*slots));
	if (!slots)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	rv = p->fn->C_GetSlotList(CK_TRUE, slots, &n);
	for (CK_ULONG i = 0; rv == CKR_OK && !found && i < n; i++) {
		rv = p->fn->C_GetTokenInfo(slots[i], &info);
		if (rv == CKR_OK && label_is(info.label, token)) {
			*slot = slots[i];
			found = 1;
		}
	}
	free(slots);
	if (rv != CKR_OK)
		return p11_fail(module, "C_GetSlotList/C_GetTokenInfo", rv);
	if (!found)
		return ppx_error_set(PPX_ENOTFOUND, "%s: no token labelled "
				     "'%s' (softhsm2-util --show-slots or "
				     "pkcs11-tool -L lists them)", module,
				     token);
	return 0;
}

/* Open a session on `slot` and log in as the user with the PIN file. */
static int login(struct p11 *p, CK_SLOT_ID slot, const char *pin_file,
		 const char *token)
{
	char pin[PPX_PKCS11_PIN_MAX];
	size_t len = 0;
	CK_RV rv;
	int rc;

	rv = p->fn->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL,
				  &p->session);
	if (rv != CKR_OK)
		return p11_fail(token, "C_OpenSession", rv);
	p->has_session = 1;
	rc = ppx_pkcs11_pin_read(pin, &len, pin_file);
	if (rc != 0)
		return rc;
	rv = p->fn->C_Login(p->session, CKU_USER, (CK_UTF8CHAR_PTR)pin,
			    (CK_ULONG)len);
	ppx_wipe(pin, sizeof(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return p11_fail(token, "C_Login with the PIN in the PIN file",
				rv);
	return 0;
}

/* The one private key matching the URI's object and id into p->key. */
static int key_find(struct p11 *p, const struct ppx_pkcs11_uri *u,
		    const char *uri)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[3] = {{CKA_CLASS, &cls, sizeof(cls)}};
	CK_ULONG nt = 1, found = 0;
	CK_OBJECT_HANDLE h[2];
	CK_RV rv;

	if (u->object[0])
		t[nt++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)u->object,
					 strlen(u->object)};
	if (u->id_len)
		t[nt++] = (CK_ATTRIBUTE){CKA_ID, (void *)u->id, u->id_len};
	rv = p->fn->C_FindObjectsInit(p->session, t, nt);
	if (rv != CKR_OK)
		return p11_fail(uri, "C_FindObjectsInit", rv);
	rv = p->fn->C_FindObjects(p->session, h, 2, &found);
	p->fn->C_FindObjectsFinal(p->session);
	if (rv != CKR_OK)
		return p11_fail(uri, "C_FindObjects", rv);
	if (found == 0)
		return ppx_error_set(PPX_ENOTFOUND, "%s: no such private key "
				     "on token '%s'", uri, u->token);
	if (found > 1)
		return ppx_error_set(PPX_EINVAL, "%s: names more than one "
				     "private key; add id= or object=", uri);
	p->key = h[0];
	t[0] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &p->key_type,
			      sizeof(p->key_type)};
	rv = p->fn->C_GetAttributeValue(p->session, p->key, t, 1);
	if (rv != CKR_OK)
		return p11_fail(uri, "C_GetAttributeValue(CKA_KEY_TYPE)", rv);
	if (p->key_type != CKK_EC && p->key_type != CKK_EC_EDWARDS)
		return ppx_error_set(PPX_EINVAL, "%s: key type 0x%lx is "
				     "neither EC (P-256) nor EC_EDWARDS "
				     "(Ed25519)", uri,
				     (unsigned long)p->key_type);
	return 0;
}

static void p11_free(void *ctx)
{
	struct p11 *p = ctx;

	if (!p)
		return;
	if (p->has_session)
		p->fn->C_CloseSession(p->session);
	module_fini(p);
	if (p->dl)
		dlclose(p->dl);
	free(p);
}

/* The token's raw r||s (`n` bytes) as DER ECDSA-Sig-Value. */
static int rs_to_der(uint8_t *sig, size_t cap, size_t *siglen,
		     const uint8_t *rs, size_t n)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, (int)(n / 2), NULL);
	BIGNUM *s = BN_bin2bn(rs + n / 2, (int)(n / 2), NULL);
	int len = -1;

	if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL;	/* es owns them now */
		len = i2d_ECDSA_SIG(es, NULL);
		if (len > 0 && (size_t)len <= cap) {
			uint8_t *w = sig;

			len = i2d_ECDSA_SIG(es, &w);
		} else {
			len = -1;
		}
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	if (len <= 0)
		return ppx_error_set(PPX_ECRYPTO, "cannot encode the token's "
				     "ECDSA signature");
	*siglen = (size_t)len;
	return 0;
}

/* The backend's sign(): see struct ppx_signer_backend in ppx/pki.h. */
static int p11_sign(void *ctx, uint8_t *sig, size_t cap, size_t *siglen,
		    const uint8_t *msg, size_t len)
{
	struct p11 *p = ctx;
	CK_MECHANISM mech = {p->key_type == CKK_EC ? CKM_ECDSA : CKM_EDDSA,
			     NULL, 0};
	uint8_t raw[RAW_SIG_MAX], hash[32];
	CK_ULONG n = sizeof(raw);
	CK_RV rv;

	if (p->key_type == CKK_EC) {
		if (EVP_Digest(msg, len, hash, NULL, EVP_sha256(), NULL) != 1)
			return ppx_error_set(PPX_ECRYPTO, "SHA-256 failed");
		msg = hash;
		len = sizeof(hash);
	}
	rv = p->fn->C_SignInit(p->session, &mech, p->key);
	if (rv != CKR_OK)
		return p11_fail("PKCS#11 signer", "C_SignInit", rv);
	rv = p->fn->C_Sign(p->session, (CK_BYTE_PTR)msg, (CK_ULONG)len, raw,
			   &n);
	if (rv != CKR_OK)
		return p11_fail("PKCS#11 signer", "C_Sign", rv);
	if (p->key_type == CKK_EC)
		return rs_to_der(sig, cap, siglen, raw, n);
	if (n > cap)
		return ppx_error_set(PPX_ERANGE, "PKCS#11 signer: signature "
				     "of %lu bytes, room for %zu",
				     (unsigned long)n, cap);
	memcpy(sig, raw, n);
	*siglen = n;
	return 0;
}

static const struct ppx_signer_backend p11_backend = {
	.name = "pkcs11",
	.sign = p11_sign,
	.free = p11_free,
};

/* Load, log in, find the key: a ready backend context into *out. */
static int p11_open(struct p11 **out, const char *module, const char *uri,
		    const char *pin_file)
{
	struct ppx_pkcs11_uri u;
	struct p11 *p;
	CK_SLOT_ID slot = 0;
	int rc = ppx_pkcs11_uri_parse(&u, uri);

	*out = NULL;
	if (rc != 0)
		return rc;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	rc = module_load(p, module);
	if (rc == 0)
		rc = token_find(p, &slot, u.token, module);
	if (rc == 0)
		rc = login(p, slot, pin_file, u.token);
	if (rc == 0)
		rc = key_find(p, &u, uri);
	if (rc != 0) {
		p11_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* Sign a probe with `s` and verify it with its certificate. */
static int probe(ppx_signer *s, const struct p11 *p, const char *uri,
		 const char *cert_file)
{
	static const uint8_t msg[] = "ppx: does the token's key match?";
	int want = p->key_type == CKK_EC
			   ? PPX__V1__SIGNATURE_ALGORITHM__SIG_ECDSA_P256_SHA256
			   : PPX__V1__SIGNATURE_ALGORITHM__SIG_ED25519;
	uint8_t sig[PPX_SIG_MAX];
	size_t n = 0;
	int rc;

	if (ppx_signer_algorithm(s) != want)
		return ppx_error_set(PPX_EINVAL, "key %s on the token is %s, "
				     "certificate %s is not", uri,
				     p->key_type == CKK_EC ? "ECDSA"
							   : "Ed25519",
				     cert_file);
	rc = ppx_signer_sign(s, sig, sizeof(sig), &n, msg, sizeof(msg));
	if (rc != 0)
		return rc;
	if (ppx_cert_verify_signature(ppx_signer_cert(s), sig, n, msg,
				      sizeof(msg)) != 0)
		return ppx_error_set(PPX_EINVAL, "key %s on the token does "
				     "not match certificate %s", uri,
				     cert_file);
	return 0;
}

int ppx_signer_pkcs11_open(ppx_signer **out, const char *module,
			   const char *uri, const char *pin_file,
			   const char *cert_file)
{
	struct p11 *p;
	ppx_signer *s;
	int rc = p11_open(&p, module, uri, pin_file);

	*out = NULL;
	if (rc != 0)
		return rc;
	rc = ppx_signer_with_backend(&s, &p11_backend, p, cert_file);
	if (rc != 0)
		return rc;
	rc = probe(s, p, uri, cert_file);
	if (rc != 0) {
		ppx_signer_free(s);
		return rc;
	}
	*out = s;
	return 0;
}
