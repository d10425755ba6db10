/* corio__ctx_switch(from = rdi, to = rsi) for x86-64 System V.
 * Saves the callee-saved integer registers, MXCSR and the x87 control word on
 * the current stack, stores rsp in from->sp, loads to->sp and restores.
 * The frame, from the saved sp upwards:
 *   [sp+0]  mxcsr (4 bytes) | x87 cw (2 bytes)
 *   [sp+8]  r15, r14, r13, r12, rbx, rbp
 *   [sp+56] return address
 * corio__ctx_make (ctx_unix.c) builds the same frame for a new coroutine, with
 * corio__ctx_trampoline as the return address, entry in r13 and arg in r12. */
	.text
	.globl	corio__ctx_switch
	.hidden	corio__ctx_switch
	.type	corio__ctx_switch, @function
	.p2align 4
corio__ctx_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	corio__ctx_switch, .-corio__ctx_switch

/* First code a new coroutine runs: entry(arg). entry never returns. */
	.globl	corio__ctx_trampoline
	.hidden	corio__ctx_trampoline
	.type	corio__ctx_trampoline, @function
	.p2align 4
corio__ctx_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp
	movq	%r12, %rdi
	callq	*%r13
	ud2
	.cfi_endproc
	.size	corio__ctx_trampoline, .-corio__ctx_trampoline

	.section .note.GNU-stack,"",@progbits
