import { Alert, Button, Card, Center, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { loginRequestSchema } from '../../../shared/contract.ts';
import { describeError } from '../api.ts';
import { LanguagePicker } from '../ui.tsx';
import { useT } from '../i18n.tsx';

export function LoginScreen({ onLogin }: { onLogin: (username: string, password: string) => Promise<void> }) {
  const t = useT();
  const [error, setError] = useState<string | null>(null);
  const form = useForm({ resolver: zodResolver(loginRequestSchema), defaultValues: { username: '', password: '' } });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      await onLogin(v.username, v.password);
    } catch (e) {
      setError(describeError(e));
    }
  });
  return (
    <Center h="100vh">
      <Card withBorder shadow="sm" w={420} p="xl">
        <form onSubmit={(e) => void submit(e)}>
          <Stack>
            <Title order={2}>{t('login.title')}</Title>
            {error && <Alert color="red" role="alert">{error}</Alert>}
            <TextInput label={t('login.username')} autoFocus autoComplete="username" {...form.register('username')} error={form.formState.errors.username?.message} />
            <PasswordInput label={t('login.password')} autoComplete="current-password" {...form.register('password')} error={form.formState.errors.password?.message} />
            <Button type="submit" loading={form.formState.isSubmitting} size="lg">{t('login.submit')}</Button>
            <LanguagePicker />
          </Stack>
        </form>
      </Card>
    </Center>
  );
}
