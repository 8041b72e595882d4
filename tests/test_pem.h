/*
 * test_pem: fixed test material for the web config tests: a self-signed
 * P-256 certificate (CN "elb_job_exporter unit test", SAN DNS:localhost,
 * valid 100 years), its key, and another key that is not its. Made once with
 * openssl req -x509 -newkey ec; test keys, never used anywhere else.
 */
#ifndef ELB_TEST_PEM_H
#define ELB_TEST_PEM_H

static const char test_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBuDCCAV2gAwIBAgIUQjm+2cJ7+NIfYmKw9NYWXOis5vUwCgYIKoZIzj0EAwIw\n"
    "JTEjMCEGA1UEAwwaZWxiX2pvYl9leHBvcnRlciB1bml0IHRlc3QwIBcNMjYxMjAy\n"
    "MTYzNjU2WhgPMjEyNjExMDgxNjM2NTZaMCUxIzAhBgNVBAMMGmVsYl9qb2JfZXhw\n"
    "b3J0ZXIgdW5pdCB0ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEyNpEi2Pi\n"
    "Ns8C7nwKR5JEFWMAVY1ygTXuEzh38pAKoUv0qtzebhizszHbO/G0zMhwnQgVJAo3\n"
    "1fYGkSgfXXloeKNpMGcwHQYDVR0OBBYEFC+j98tfyEAUk8jyFWQ+BuBfJbeZMB8G\n"
    "A1UdIwQYMBaAFC+j98tfyEAUk8jyFWQ+BuBfJbeZMA8GA1UdEwEB/wQFMAMBAf8w\n"
    "FAYDVR0RBA0wC4IJbG9jYWxob3N0MAoGCCqGSM49BAMCA0kAMEYCIQCT5SzmJ/gk\n"
    "gTKBa+FS4l1ZRcbdqKI0FTiLo7BAv+DoWgIhALPGGoZRQv45ZAnwV5onNc/7Zgi4\n"
    "bps8mqqako5z0Wxb\n"
    "-----END CERTIFICATE-----\n";

static const char test_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg8OIWL0QnPaAwuSPa\n"
    "+hRcEqDjd5qVvtKH1ikNb3s21kqhRANCAATI2kSLY+I2zwLufApHkkQVYwBVjXKB\n"
    "Ne4TOHfykAqhS/Sq3N5uGLOzMds78bTMyHCdCBUkCjfV9gaRKB9deWh4\n"
    "-----END PRIVATE KEY-----\n";

static const char test_other_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgZpu3n24M2x8cZnCL\n"
    "+m31pedFzOV0CSfl9NEjKjiBy6ihRANCAAS4NuFPyNKX5OI3h7x4FXOrnNmQCSQU\n"
    "iCltNGUK9pN115T25AT38tPFlYdPidwbD0CzIW7EcneQ+DId9IWRUkGu\n"
    "-----END PRIVATE KEY-----\n";

#endif
