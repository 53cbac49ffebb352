/* First-start material for development mode and the master-key file reader.
 * Everything here touches the filesystem, which the engine never does. */
#ifndef GREP11_SERVER_DEVSETUP_H
#define GREP11_SERVER_DEVSETUP_H

#include <stddef.h>
#include <stdint.h>

#define DEV_WK_FILE "dev-master-key"
#define DEV_TLS_DIR "tls"

/* Creates (0700) dir and its parents when missing. 0 on success. */
int dev_mkdirs(const char *dir, char *err, size_t errlen);

/* --dev: makes sure DIR/dev-master-key and DIR/tls/{ca,server,client}.pem
 * with their keys exist, creating what is missing. *created_wk is set when a
 * new development master key was made (the caller warns loudly). */
int dev_prepare(const char *data_dir, int *created_wk, char *err, size_t errlen);

/* Reads a 32-byte master key from a file that only its owner may read.
 * The caller zeroizes wk when done. */
int masterkey_read_file(const char *path, uint8_t wk[32], char *err, size_t errlen);

/* Reads a whole (small) file into a NUL-terminated buffer; NULL on error. */
char *file_read_all(const char *path, size_t max, size_t *len_out);

#endif
