/*
 * nodl.c - what SQLite's dlopen() calls resolve to in a static smtpd.
 *
 * SQLite's unix VFS refers to dlopen()/dlsym()/dlclose()/dlerror() for
 * load_extension(), which smtpd never calls.  In a fully static link
 * glibc's dlopen() would still need glibc's shared libraries at run
 * time, and the linker warns about it.  The static link wraps the four
 * symbols (-Wl,--wrap=...) so that SQLite gets these instead: loading
 * code at run time is simply not available, and the sandbox would refuse
 * the mmap anyway.
 */
#include <stddef.h>

void *__wrap_dlopen(const char *file, int mode);
void *__wrap_dlsym(void *handle, const char *name);
int __wrap_dlclose(void *handle);
char *__wrap_dlerror(void);

/* __wrap_dlopen - refuse every library: smtpd loads nothing at run time */
void *__wrap_dlopen(const char *file, int mode)
{
	(void)file;
	(void)mode;
	return NULL;
}

/* __wrap_dlsym - no handle exists, so no symbol either */
void *__wrap_dlsym(void *handle, const char *name)
{
	(void)handle;
	(void)name;
	return NULL;
}

/* __wrap_dlclose - nothing was opened */
int __wrap_dlclose(void *handle)
{
	(void)handle;
	return 0;
}

/* __wrap_dlerror - the reason SQLite reports for a refused extension */
char *__wrap_dlerror(void)
{
	static char why[] = "loading code at run time is not available in this static build";
	return why;
}
